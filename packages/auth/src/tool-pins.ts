import { createHash } from 'node:crypto';
import { silentLogger } from '@mcp-gateway/core';
import type { Logger, Tool } from '@mcp-gateway/core';
import { canonicalJson, prettyCanonicalJson } from './canonical-json.ts';
import { describeHiddenUnicode } from './hidden-unicode.ts';
import { diffLines } from './text-diff.ts';
import type { ToolPinRecord, ToolPinStore } from './tool-pin-store.ts';

/** The parts of a tool definition a model sees, and so the parts a pin covers. */
export function pinnedToolDefinition(tool: Tool): Record<string, unknown> {
  return {
    name: tool.name,
    title: tool.title,
    description: tool.description,
    inputSchema: tool.inputSchema,
    outputSchema: tool.outputSchema,
    annotations: tool.annotations,
  };
}

/**
 * SHA-256 (hex) of the canonical JSON (keys sorted) of a tool's name, title, description, input and output schemas
 * and annotations: two definitions get the same hash exactly when a model would see the same tool.
 */
export function hashToolDefinition(tool: Tool): string {
  return createHash('sha256')
    .update(canonicalJson(pinnedToolDefinition(tool)))
    .digest('hex');
}

/** A tool held back from the catalog until an admin approves it. */
export interface QuarantinedTool {
  readonly tool: Tool;
  /** Never approved, or different from what was approved. */
  readonly reason: 'new' | 'changed';
  /** The hash to pass to `approve`. */
  readonly hash: string;
  /** For `changed`: a line diff of the approved and the current definition. */
  readonly diff?: string;
  /** Hidden tag, bidi-control and zero-width characters found in the definition, one line per string. */
  readonly hiddenUnicode: readonly string[];
}

/** The outcome of reviewing one upstream's tool list. */
export interface ToolReview {
  readonly approved: readonly Tool[];
  readonly quarantined: readonly QuarantinedTool[];
}

/** Options of {@link createToolPins}. */
export interface ToolPinsOptions {
  store: ToolPinStore;
  /**
   * What happens to a tool seen for the first time: `quarantine` (default; nothing new is exposed without an admin)
   * or `approve` (trust on first use; only changes are held). A new tool with hidden Unicode is always quarantined.
   */
  onNew?: 'quarantine' | 'approve';
  /** Epoch milliseconds. Default `Date.now`. */
  clock?: () => number;
  logger?: Logger;
}

/** What `approve` takes: the tool and the exact definition (hash) the admin reviewed. */
export interface ApproveToolInput {
  upstreamId: string;
  toolName: string;
  hash: string;
  approvedBy?: string;
}

/** Rug-pull defence: tool definitions are pinned by hash, and a new or changed one waits for an admin. */
export interface ToolPins {
  /** Splits an upstream's tools into approved and quarantined, recording what awaits review. */
  review(upstreamId: string, tools: readonly Tool[]): Promise<ToolReview>;
  /**
   * Approves the pending definition with this hash. False when the tool has no pending definition with that hash
   * (it changed again since the admin looked: review the new diff).
   */
  approve(input: ApproveToolInput): Promise<boolean>;
  /** Pins, for the admin UI (`pendingHash` set = awaiting review). */
  list(upstreamId?: string): Promise<ToolPinRecord[]>;
  /** Called with the upstream id after an approval, so wrappers re-review. Returns the unsubscribe function. */
  onChange(listener: (upstreamId: string) => void): () => void;
}

/** Creates {@link ToolPins}. */
export function createToolPins(options: ToolPinsOptions): ToolPins {
  const { store } = options;
  const clock = options.clock ?? Date.now;
  const logger = options.logger ?? silentLogger;
  const onNew = options.onNew ?? 'quarantine';
  const listeners = new Set<(upstreamId: string) => void>();

  return {
    async review(upstreamId, tools) {
      const pins = new Map((await store.list(upstreamId)).map((pin) => [pin.toolName, pin]));
      const approved: Tool[] = [];
      const quarantined: QuarantinedTool[] = [];
      const now = new Date(clock());
      for (const tool of tools) {
        const definition = pinnedToolDefinition(tool);
        const canonical = canonicalJson(definition);
        const hash = createHash('sha256').update(canonical).digest('hex');
        const pin = pins.get(tool.name);
        if (pin?.approvedHash === hash) {
          approved.push(tool);
          if (pin.pendingHash !== null) {
            // It changed back to what was approved: nothing is pending any more.
            await store.put({ ...pin, pendingHash: null, pendingDefinition: null, updatedAt: now });
          }
          continue;
        }
        const hiddenUnicode = describeHiddenUnicode(definition);
        if (!pin?.approvedHash && onNew === 'approve' && hiddenUnicode.length === 0) {
          await store.put({
            upstreamId,
            toolName: tool.name,
            approvedHash: hash,
            approvedDefinition: canonical,
            approvedAt: now,
            approvedBy: 'trust-on-first-use',
            pendingHash: null,
            pendingDefinition: null,
            updatedAt: now,
          });
          approved.push(tool);
          continue;
        }
        if (pin?.pendingHash !== hash) {
          await store.put({
            upstreamId,
            toolName: tool.name,
            approvedHash: pin?.approvedHash ?? null,
            approvedDefinition: pin?.approvedDefinition ?? null,
            approvedAt: pin?.approvedAt ?? null,
            approvedBy: pin?.approvedBy ?? null,
            pendingHash: hash,
            pendingDefinition: canonical,
            updatedAt: now,
          });
          logger.warn(
            { upstreamId, tool: tool.name, reason: pin?.approvedHash ? 'changed' : 'new', hiddenUnicode },
            'tool quarantined until an admin approves it',
          );
        }
        const approvedDefinition = pin?.approvedDefinition;
        quarantined.push({
          tool,
          reason: approvedDefinition ? 'changed' : 'new',
          hash,
          ...(approvedDefinition
            ? {
                diff: diffLines(
                  prettyCanonicalJson(JSON.parse(approvedDefinition)),
                  prettyCanonicalJson(definition),
                ),
              }
            : {}),
          hiddenUnicode,
        });
      }
      return { approved, quarantined };
    },

    async approve(input) {
      const pin = await store.get(input.upstreamId, input.toolName);
      if (!pin) return false;
      if (pin.approvedHash === input.hash && pin.pendingHash === null) return true;
      if (pin.pendingHash !== input.hash || pin.pendingDefinition === null) return false;
      const now = new Date(clock());
      await store.put({
        ...pin,
        approvedHash: pin.pendingHash,
        approvedDefinition: pin.pendingDefinition,
        approvedAt: now,
        approvedBy: input.approvedBy ?? null,
        pendingHash: null,
        pendingDefinition: null,
        updatedAt: now,
      });
      for (const listener of listeners) {
        try {
          listener(input.upstreamId);
        } catch (error) {
          logger.error({ err: String(error) }, 'tool pin listener threw');
        }
      }
      return true;
    },

    list: (upstreamId) => store.list(upstreamId),

    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
