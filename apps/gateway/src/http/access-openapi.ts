import { z } from 'zod';
import type { JsonSchema, OpenApiDocument, OpenApiResponse } from './openapi.ts';
import { tokenCreateSchema, tokenListQuerySchema } from './tokens-routes.ts';
import { MIN_PASSWORD_LENGTH, userCreateSchema, userPatchSchema } from './users-routes.ts';

/** The part of the OpenAPI document about API tokens and users (`/v1/tokens`, `/v1/users`). */
export interface AccessOpenApi {
  paths: OpenApiDocument['paths'];
  schemas: Record<string, JsonSchema>;
  tags: OpenApiDocument['tags'];
}

function inputSchemaOf(schema: z.ZodType): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  return rest;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const response = (name: string) => ({ $ref: `#/components/responses/${name}` });
const json = (schema: JsonSchema) => ({ 'application/json': { schema } });
const ok = (description: string, schema: JsonSchema): OpenApiResponse => ({
  description,
  content: json(schema),
});
const body = (schema: string) => ({ required: true, content: json(ref(schema)) });
const items = (schema: string) => ({
  type: 'object',
  required: ['items'],
  properties: { items: { type: 'array', items: ref(schema) } },
});
const idParameter = { $ref: '#/components/parameters/Id' };
const dateTime = { type: 'string', format: 'date-time' };
const nullableDateTime = { anyOf: [dateTime, { type: 'null' }] };
const strings = { type: 'array', items: { type: 'string' } };
const forbidden = {
  description: 'Your role or scopes do not allow this (`details.field` names what was refused).',
  content: json({ $ref: '#/components/schemas/Error' }),
};

/**
 * Paths, schemas and tags of `/v1/tokens` and `/v1/users`. Request bodies come from the zod schemas the routes
 * validate with; responses are written by hand.
 */
export function accessOpenApi(): AccessOpenApi {
  const tokenProperties = {
    id: { type: 'string' },
    name: { type: 'string' },
    prefix: { type: 'string', description: 'The first characters of the token, to recognise it.' },
    ownerId: { type: 'string', description: 'The user the token acts for.' },
    roles: strings,
    teams: strings,
    scopes: strings,
    virtualServers: { anyOf: [strings, { type: 'null' }], description: '`null`: any virtual server.' },
    expiresAt: nullableDateTime,
    createdAt: dateTime,
    lastUsedAt: nullableDateTime,
    revokedAt: nullableDateTime,
  };
  const schemas: Record<string, JsonSchema> = {
    TokenCreate: inputSchemaOf(tokenCreateSchema),
    UserCreate: inputSchemaOf(userCreateSchema),
    UserPatch: inputSchemaOf(userPatchSchema),
    ApiToken: {
      type: 'object',
      description: 'An API token as listed: never the token itself, nor its hash.',
      properties: tokenProperties,
    },
    ApiTokenCreated: {
      type: 'object',
      description: 'A new API token, with its text: shown this once, it cannot be recovered.',
      required: ['token'],
      properties: {
        ...tokenProperties,
        token: {
          type: 'string',
          pattern: '^mgw_[A-Za-z0-9_-]{43}$',
          description: 'Send as `Bearer <token>`.',
        },
      },
    },
    User: {
      type: 'object',
      description: 'A person who signs in with a password. The password and its hash are never returned.',
      properties: {
        id: { type: 'string' },
        username: { type: 'string' },
        roles: strings,
        teams: strings,
        disabled: { type: 'boolean' },
        hasPassword: { type: 'boolean' },
        createdAt: dateTime,
        updatedAt: dateTime,
      },
    },
    Principal: {
      type: 'object',
      description: 'Who the gateway takes the caller to be.',
      properties: {
        id: { type: 'string' },
        kind: { type: 'string', enum: ['user', 'token', 'jwt', 'anonymous'] },
        roles: strings,
        teams: strings,
        scopes: strings,
        virtualServers: { ...strings, description: 'Present when the caller is limited to these.' },
      },
    },
  };

  const ownerQuery = Object.entries(
    (inputSchemaOf(tokenListQuerySchema).properties ?? {}) as Record<string, JsonSchema>,
  ).map(([name, { description, ...schema }]) => ({
    name,
    in: 'query' as const,
    required: false,
    ...(typeof description === 'string' ? { description } : {}),
    schema,
  }));

  const paths: OpenApiDocument['paths'] = {
    '/v1/tokens': {
      get: {
        operationId: 'listTokens',
        summary: 'List API tokens',
        description:
          'Admins see every token; everyone else only their own. Revoked tokens are listed with `revokedAt`.',
        tags: ['tokens'],
        parameters: ownerQuery,
        responses: {
          200: ok('The tokens, oldest first.', items('ApiToken')),
          400: response('BadRequest'),
          403: forbidden,
        },
      },
      post: {
        operationId: 'createToken',
        summary: 'Create an API token',
        description:
          'Returns the token text once. A token never carries more than its creator: no more powerful role, only the creator’s teams (unless admin), scopes and virtual servers within the creator’s. Only admins name another `ownerId`.',
        tags: ['tokens'],
        requestBody: body('TokenCreate'),
        responses: {
          201: ok('The new token, with its text.', ref('ApiTokenCreated')),
          400: response('BadRequest'),
          403: forbidden,
          415: response('UnsupportedMediaType'),
        },
      },
    },
    '/v1/tokens/{id}': {
      get: {
        operationId: 'getToken',
        summary: 'Read an API token',
        description: "Someone else's token is 404 unless you are an admin.",
        tags: ['tokens'],
        parameters: [idParameter],
        responses: { 200: ok('The token, without its text.', ref('ApiToken')), 404: response('NotFound') },
      },
      delete: {
        operationId: 'revokeToken',
        summary: 'Revoke an API token',
        description: "It stops working at once. Someone else's token is 404 unless you are an admin.",
        tags: ['tokens'],
        parameters: [idParameter],
        responses: { 204: { description: 'Revoked.' }, 403: forbidden, 404: response('NotFound') },
      },
    },
    '/v1/users': {
      get: {
        operationId: 'listUsers',
        summary: 'List users',
        description: 'Admins only.',
        tags: ['users'],
        responses: { 200: ok('Every user, by username.', items('User')), 403: forbidden },
      },
      post: {
        operationId: 'createUser',
        summary: 'Create a user',
        description: `Admins only. The password (at least ${MIN_PASSWORD_LENGTH} characters) is stored hashed.`,
        tags: ['users'],
        requestBody: body('UserCreate'),
        responses: {
          201: ok('The new user.', ref('User')),
          400: response('BadRequest'),
          403: forbidden,
          409: response('Conflict'),
          415: response('UnsupportedMediaType'),
        },
      },
    },
    '/v1/users/me': {
      get: {
        operationId: 'getCurrentPrincipal',
        summary: 'Who am I',
        description: 'The caller as the gateway authenticated it: id, kind, roles, teams and scopes.',
        tags: ['users'],
        responses: { 200: ok('The caller.', ref('Principal')) },
      },
    },
    '/v1/users/{id}': {
      get: {
        operationId: 'getUser',
        summary: 'Read a user',
        description: 'Admins only.',
        tags: ['users'],
        parameters: [idParameter],
        responses: { 200: ok('The user.', ref('User')), 403: forbidden, 404: response('NotFound') },
      },
      patch: {
        operationId: 'updateUser',
        summary: 'Change a user',
        description: 'Admins only. Absent fields stay; `password` sets a new one.',
        tags: ['users'],
        parameters: [idParameter],
        requestBody: body('UserPatch'),
        responses: {
          200: ok('The changed user.', ref('User')),
          400: response('BadRequest'),
          403: forbidden,
          404: response('NotFound'),
          415: response('UnsupportedMediaType'),
        },
      },
      delete: {
        operationId: 'deleteUser',
        summary: 'Delete a user',
        description: 'Admins only.',
        tags: ['users'],
        parameters: [idParameter],
        responses: { 204: { description: 'Deleted.' }, 403: forbidden, 404: response('NotFound') },
      },
    },
  };

  return {
    paths,
    schemas,
    tags: [
      { name: 'tokens', description: 'API tokens: opaque bearer tokens, shown once, scoped and revocable.' },
      { name: 'users', description: 'People who sign in with a password; and who the caller is.' },
    ],
  };
}
