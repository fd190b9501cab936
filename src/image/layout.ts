/** Where things live inside the guest root tree (the same paths in the container and in the VM). */
export const GUEST = {
  /** The host's node binary, copied. */
  node: '/usr/local/bin/node',
  /** Root of the copied compiled code (holds a package.json with "type": "module"). */
  appRoot: '/opt/isolab',
  /** The executor entry point. */
  executor: '/opt/isolab/dist/executor/main.js',
  /** PID 1 of the VM (src/image/guest/init.sh). */
  init: '/sbin/init',
  /** Folder where the docker backend mounts the input file (read-only). */
  inputDir: '/input',
  /** Kernel command line parameter carrying the base64url task. */
  taskParam: 'isolab.task',
  /** Line the guest init prints before starting the executor. */
  startMarker: '@isolab-guest start',
  /** Line prefix the guest init prints after the executor, followed by ` rc=<code>`. */
  endMarker: '@isolab-guest end',
  /** Block device of the read-only root disk in the VM. */
  rootDevice: '/dev/vda',
  /** Block device the VM backend gives the input on. */
  inputDevice: '/dev/vdb',
} as const;

/** Repository (name) of the Docker images; the tag is the image id. */
export const DOCKER_REPO = 'isolab-guest';

/** Bumped whenever the builder lays out the tree differently; part of the content hash. */
export const BUILDER_VERSION = 2;

/** Docker image label carrying the image id, so stale images can be found. */
export const IMAGE_LABEL = 'isolab.image';
