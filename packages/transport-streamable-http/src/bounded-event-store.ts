import type { EventStore, JSONRPCMessage } from '@modelcontextprotocol/server';

/** Options of {@link createBoundedEventStore}. */
export interface BoundedEventStoreOptions {
  /** Events kept per stream; older ones cannot be replayed [200]. */
  maxEventsPerStream?: number;
  /** Streams kept; the least recently written is forgotten first [64]. */
  maxStreams?: number;
}

/**
 * The event store of one session, for resumable SSE streams: every message sent on a stream gets an event id
 * (`<stream>_<sequence>`), and a client that reconnects with `Last-Event-ID` gets the rest of that stream only, never
 * another stream's events. Bounded in events per stream and in streams, so a session cannot grow without limit.
 */
export function createBoundedEventStore(options: BoundedEventStoreOptions = {}): EventStore {
  const maxEvents = options.maxEventsPerStream ?? 200;
  const maxStreams = options.maxStreams ?? 64;
  const streams = new Map<
    string,
    { next: number; events: Array<{ seq: number; message: JSONRPCMessage }> }
  >();

  const parse = (eventId: string) => {
    const cut = eventId.lastIndexOf('_');
    if (cut <= 0) return undefined;
    const seq = Number(eventId.slice(cut + 1));
    return Number.isInteger(seq) ? { streamId: eventId.slice(0, cut), seq } : undefined;
  };

  return {
    async storeEvent(streamId, message) {
      let stream = streams.get(streamId);
      if (stream) streams.delete(streamId);
      stream ??= { next: 0, events: [] };
      streams.set(streamId, stream);
      while (streams.size > maxStreams) {
        const oldest = streams.keys().next().value;
        if (oldest === undefined) break;
        streams.delete(oldest);
      }
      const seq = stream.next++;
      stream.events.push({ seq, message });
      if (stream.events.length > maxEvents) stream.events.shift();
      return `${streamId}_${seq}`;
    },

    async getStreamIdForEventId(eventId) {
      const parsed = parse(eventId);
      return parsed && streams.has(parsed.streamId) ? parsed.streamId : undefined;
    },

    async replayEventsAfter(lastEventId, { send }) {
      const parsed = parse(lastEventId);
      const stream = parsed ? streams.get(parsed.streamId) : undefined;
      if (!parsed || !stream) throw new Error(`unknown event id ${lastEventId}`);
      for (const event of stream.events) {
        if (event.seq > parsed.seq) await send(`${parsed.streamId}_${event.seq}`, event.message);
      }
      return parsed.streamId;
    },
  };
}
