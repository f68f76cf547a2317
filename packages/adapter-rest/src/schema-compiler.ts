import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import { RestAdapterError } from './rest-adapter-error.ts';
import type { JsonSchema } from './tool-definition.ts';

/** Checks a value; returns undefined when it conforms, else a message naming the offending fields. */
export type SchemaCheck = (value: unknown) => string | undefined;

/** Compiles JSON Schemas (2020-12; unknown keywords such as OpenAPI's `example` are ignored). */
export interface SchemaCompiler {
  /** Compiles `schema` now; throws `RestAdapterError` (`config-invalid`) naming `what` when it does not compile. */
  compile(schema: JsonSchema, what: string): SchemaCheck;
  /**
   * Compiles `schema` on its first use and keeps the result, so that creating an upstream with a thousand tools
   * (or replacing them) does not block the event loop for seconds: GitHub's 1,200 input schemas take about a
   * second to compile, its output schemas (up to 400 KB each) about forty. `checkNow` validates the schema against
   * the meta-schema at once (cheap) and throws like `compile`. When compiling later fails, `onInvalid` hears of it
   * once and the check passes everything; without `onInvalid` the check reports the failure as its problem.
   */
  compileOnFirstUse(
    schema: JsonSchema,
    what: string,
    options?: { checkNow?: boolean; onInvalid?: (error: RestAdapterError) => void },
  ): SchemaCheck;
}

/** Creates a {@link SchemaCompiler}. One per set of tools, so replaced tools do not pin old validators. */
export function createSchemaCompiler(): SchemaCompiler {
  const ajv = new Ajv2020({ strict: false, allErrors: true, logger: false, validateSchema: true });
  formats.default(ajv);
  const invalid = (what: string, detail: string, cause?: unknown) =>
    new RestAdapterError('config-invalid', `${what} is not a valid JSON Schema: ${detail}`, { cause });
  const compiler: SchemaCompiler = {
    compile(schema, what) {
      let validate: ValidateFunction;
      try {
        validate = ajv.compile(schema);
      } catch (error) {
        throw invalid(what, (error as Error).message, error);
      }
      return (value) => (validate(value) ? undefined : describeSchemaErrors(validate.errors ?? []));
    },
    compileOnFirstUse(schema, what, options = {}) {
      if (options.checkNow && !ajv.validateSchema(schema)) throw invalid(what, ajv.errorsText(ajv.errors));
      let check: SchemaCheck | undefined;
      return (value) => {
        if (!check) {
          try {
            check = compiler.compile(schema, what);
          } catch (error) {
            const failure = error as RestAdapterError;
            options.onInvalid?.(failure);
            check = options.onInvalid ? () => undefined : () => failure.message;
          }
        }
        return check(value);
      };
    },
  };
  return compiler;
}

/** Turns Ajv errors into one line a model can act on: `count must be integer; missing required "id"`. */
function describeSchemaErrors(errors: readonly ErrorObject[]): string {
  const messages: string[] = [];
  for (const error of errors) {
    const field = error.instancePath.slice(1).replace(/\//g, '.').replace(/~1/g, '/').replace(/~0/g, '~');
    const params = error.params as Record<string, unknown>;
    let message: string;
    if (error.keyword === 'required') {
      const missing = String(params.missingProperty);
      message = `missing required ${field ? `${field}.` : ''}"${missing}"`;
    } else if (error.keyword === 'additionalProperties') {
      message = `unknown ${field ? `${field}.` : ''}"${String(params.additionalProperty)}"`;
    } else if (error.keyword === 'enum') {
      message = `${field || 'value'} must be one of ${JSON.stringify(params.allowedValues)}`;
    } else {
      message = `${field || 'value'} ${error.message ?? 'is invalid'}`;
    }
    if (!messages.includes(message)) messages.push(message);
    if (messages.length === 5) break;
  }
  return messages.join('; ');
}
