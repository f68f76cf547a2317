import { z } from 'zod';

/** Who may see an entity: only its owner, its owner and its team, or everyone. */
export const visibilitySchema = z
  .enum(['private', 'team', 'public'], { error: 'visibility must be "private", "team" or "public"' })
  .describe(
    'Who may see it: its owner (`private`), its owner and team (`team`) or everyone (`public`, the default).',
  );

const principalIdSchema = (field: 'owner' | 'team') =>
  z
    .string({ error: `${field} must be a string` })
    .min(1, `${field} must not be empty`)
    .max(200, `${field} must be at most 200 characters`);

/**
 * The ownership fields of a create body (gateways, tools, prompts, resources, virtual servers). Without them the
 * entity is public; with authentication, `owner` defaults to the caller.
 */
export const ownershipInputFields = {
  owner: principalIdSchema('owner').optional().describe('The owning user id; defaults to the caller.'),
  team: principalIdSchema('team').optional().describe('The owning team id.'),
  visibility: visibilitySchema.optional(),
};

/** The ownership fields of a PATCH body: `null` clears `owner` or `team`. */
export const ownershipPatchFields = {
  owner: principalIdSchema('owner').nullable().optional().describe('The owning user id; `null` clears it.'),
  team: principalIdSchema('team').nullable().optional().describe('The owning team id; `null` clears it.'),
  visibility: visibilitySchema.optional(),
};
