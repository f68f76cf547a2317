/** The pin of one tool of one upstream: the definition an admin approved, and a changed one awaiting review. */
export interface ToolPinRecord {
  readonly upstreamId: string;
  /** The tool's name at the upstream (not the public, namespaced name). */
  readonly toolName: string;
  /** SHA-256 of the approved definition; `null` while the tool has never been approved. */
  readonly approvedHash: string | null;
  /** The approved definition as canonical JSON, for diffs. */
  readonly approvedDefinition: string | null;
  readonly approvedAt: Date | null;
  readonly approvedBy: string | null;
  /** The latest definition that differs from the approved one, held for review. */
  readonly pendingHash: string | null;
  readonly pendingDefinition: string | null;
  readonly updatedAt: Date;
}

/** Persistence of tool pins. Read once per upstream review (on list changes), never per call. */
export interface ToolPinStore {
  list(upstreamId?: string): Promise<ToolPinRecord[]>;
  get(upstreamId: string, toolName: string): Promise<ToolPinRecord | undefined>;
  /** Creates or replaces the pin of (upstreamId, toolName). */
  put(record: ToolPinRecord): Promise<void>;
  delete(upstreamId: string, toolName: string): Promise<boolean>;
}

/** A {@link ToolPinStore} in memory, for tests and single-process embedding. */
export function createInMemoryToolPinStore(): ToolPinStore {
  const pins = new Map<string, ToolPinRecord>();
  const key = (upstreamId: string, toolName: string) => `${upstreamId}\u0000${toolName}`;
  return {
    async list(upstreamId) {
      return [...pins.values()]
        .filter((p) => upstreamId === undefined || p.upstreamId === upstreamId)
        .sort((a, b) => (a.upstreamId + a.toolName).localeCompare(b.upstreamId + b.toolName));
    },
    get: async (upstreamId, toolName) => pins.get(key(upstreamId, toolName)),
    async put(record) {
      pins.set(key(record.upstreamId, record.toolName), record);
    },
    delete: async (upstreamId, toolName) => pins.delete(key(upstreamId, toolName)),
  };
}
