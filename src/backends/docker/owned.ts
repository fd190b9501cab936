import type Docker from 'dockerode';
import { IMAGE_LABEL } from '../../image/layout.js';
import { isSessionId, sessionOfName } from '../../session/session-id.js';
import { LABELS } from '../../session/session.js';
import type { OwnedResource } from '../backend.js';
import { isNotFound } from './connection.js';

/** An isolab image id as it appears in the `isolab.image` label. */
const IMAGE_ID = /^[0-9a-f]{12}$/;

/** A container as the engine lists it (the fields the ownership check reads). */
export type ListedContainer = Pick<Docker.ContainerInfo, 'Id' | 'Names' | 'Labels' | 'ImageID'>;

/**
 * Why a listed container is isolab's, or undefined when it is not provably so. All of: the
 * `isolab.owned=true` label, a valid `isolab.session` label, a name `isolab-<that session>-…`, and an
 * `isolab.image` label naming an isolab image id that the container's own image carries too
 * (the label is set when isolab imports the image). `imageLabel` reads that label from an image id.
 */
export async function containerOwner(c: ListedContainer, imageLabel: (imageId: string) => Promise<string | undefined>): Promise<string | undefined> {
  const labels = c.Labels ?? {};
  if (labels[LABELS.owned] !== 'true') return undefined;
  const s = labels[LABELS.session];
  if (!isSessionId(s)) return undefined;
  const name = (c.Names ?? []).map((n) => n.replace(/^\//, '')).find((n) => sessionOfName(n) === s);
  if (!name) return undefined;
  const img = labels[IMAGE_LABEL];
  if (!img || !IMAGE_ID.test(img)) return undefined;
  if ((await imageLabel(c.ImageID)) !== img) return undefined;
  return s;
}

/** Options of {@link listOwnedContainers}. */
export interface ListOwnedOptions {
  /** Backend name put on the resources. */
  backend: string;
  /** Extra filter (e.g. a gVisor backend keeping only its runtime's containers). */
  accept?: (c: ListedContainer) => boolean | Promise<boolean>;
}

/** Every container (any state) that is provably isolab's (see {@link containerOwner}), with its session; `id` is the container id. */
export async function listOwnedContainers(docker: Docker, o: ListOwnedOptions): Promise<OwnedResource[]> {
  const list = await docker.listContainers({ all: true, filters: { label: [`${LABELS.owned}=true`] } });
  const imageLabels = new Map<string, Promise<string | undefined>>();
  const imageLabel = (id: string): Promise<string | undefined> => {
    let p = imageLabels.get(id);
    if (!p) {
      p = docker.getImage(id).inspect().then((i) => i.Config?.Labels?.[IMAGE_LABEL] ?? undefined, () => undefined);
      imageLabels.set(id, p);
    }
    return p;
  };
  const out: OwnedResource[] = [];
  for (const c of list) {
    const s = await containerOwner(c, imageLabel);
    if (!s || (o.accept && !(await o.accept(c)))) continue;
    out.push({ backend: o.backend, kind: 'container', id: c.Id, name: c.Names?.[0]?.replace(/^\//, ''), session: s });
  }
  return out;
}

/** Removes a container found by {@link listOwnedContainers}, by id (with its anonymous volumes); gone already is fine. */
export async function removeOwnedContainer(docker: Docker, r: OwnedResource): Promise<void> {
  if (r.kind !== 'container') return;
  if (!/^[0-9a-f]{64}$/.test(r.id)) throw new Error(`not a container id: ${r.id}`);
  try {
    await docker.getContainer(r.id).remove({ force: true, v: true });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}
