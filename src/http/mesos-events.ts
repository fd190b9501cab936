/**
 * Events of Mesos' v1 scheduler API (scheduler.proto `Event`): written by the master's scheduler
 * API onto a subscription's stream, read back by the HTTP framework driver.
 */
import { field, id, idField, item, listField, objectField, show, stringField, WireError, type Json } from './mesos-json.js';

/** Event types of the v1 scheduler API. */
export const EVENT_TYPES = ['SUBSCRIBED', 'OFFERS', 'INVERSE_OFFERS', 'RESCIND', 'RESCIND_INVERSE_OFFER', 'UPDATE', 'UPDATE_OPERATION_STATUS', 'MESSAGE', 'FAILURE', 'ERROR', 'HEARTBEAT'] as const;

/** The master's own description in SUBSCRIBED (Mesos' MasterInfo). */
export interface MasterInfoJson {
  /** Master id. */
  id: string;
  /** IPv4 address as a host-order integer (Mesos' legacy field), 0 when not IPv4. */
  ip: number;
  /** Port. */
  port: number;
  /** Host name. */
  hostname: string;
  /** isolab's version. */
  version: string;
  /** Address, as newer Mesos gives it. */
  address: { hostname: string; ip: string; port: number };
}

/** SUBSCRIBED: the framework id and how often heartbeats come. */
export function subscribedEvent(frameworkId: string, heartbeatSeconds: number, master: MasterInfoJson): Json {
  return { type: 'SUBSCRIBED', subscribed: { framework_id: id(frameworkId), heartbeat_interval_seconds: heartbeatSeconds, master_info: master } };
}

/** OFFERS. */
export function offersEvent(offers: Json[]): Json {
  return { type: 'OFFERS', offers: { offers } };
}

/** RESCIND of one offer. */
export function rescindEvent(offerId: string): Json {
  return { type: 'RESCIND', rescind: { offer_id: id(offerId) } };
}

/** UPDATE with one status. */
export function updateEvent(status: Json): Json {
  return { type: 'UPDATE', update: { status } };
}

/** FAILURE: an agent was lost (removed or unreachable). */
export function failureEvent(agentId: string): Json {
  return { type: 'FAILURE', failure: { agent_id: id(agentId) } };
}

/** ERROR: the subscription ends (e.g. the framework was removed or failed over). */
export function errorEvent(message: string): Json {
  return { type: 'ERROR', error: { message } };
}

/** HEARTBEAT. */
export function heartbeatEvent(): Json {
  return { type: 'HEARTBEAT' };
}

/** A parsed event; payloads of OFFERS and UPDATE stay in wire form for mesos-tasks to read. */
export type SchedulerEvent =
  | { type: 'SUBSCRIBED'; frameworkId: string; heartbeatSeconds?: number }
  | { type: 'OFFERS'; offers: unknown[] }
  | { type: 'RESCIND'; offerId: string }
  | { type: 'UPDATE'; status: Json }
  | { type: 'FAILURE'; agentId?: string }
  | { type: 'ERROR'; message: string }
  | { type: 'HEARTBEAT' }
  | { type: 'OTHER'; name: string };

/** Reads one event record's JSON. Throws WireError for one that is not an event. */
export function parseEvent(body: unknown): SchedulerEvent {
  const o = item(body, 'event');
  const type = field(o, 'type');
  if (typeof type !== 'string') throw new WireError(`event.type missing, got ${show(type)}`);
  switch (type) {
    case 'SUBSCRIBED': {
      const s = objectField(o, 'subscribed', 'event', true);
      const hb = s.heartbeat_interval_seconds;
      return { type, frameworkId: idField(s, 'framework_id', 'event.subscribed', true), heartbeatSeconds: typeof hb === 'number' ? hb : undefined };
    }
    case 'OFFERS':
      return { type, offers: listField(objectField(o, 'offers', 'event', true), 'offers', 'event.offers') };
    case 'RESCIND':
      return { type, offerId: idField(objectField(o, 'rescind', 'event', true), 'offer_id', 'event.rescind', true) };
    case 'UPDATE':
      return { type, status: objectField(objectField(o, 'update', 'event', true), 'status', 'event.update', true) };
    case 'FAILURE':
      return { type, agentId: idField(objectField(o, 'failure', 'event') ?? {}, 'agent_id', 'event.failure') };
    case 'ERROR':
      return { type, message: stringField(objectField(o, 'error', 'event') ?? {}, 'message', 'event.error') ?? 'error' };
    case 'HEARTBEAT':
      return { type };
    default:
      return { type: 'OTHER', name: type };
  }
}
