/**
 * A small validation kit for the config and board schemas: defaults, bounds and descriptions on every key, every
 * problem reported at once with its dotted key, and the TypeScript type derived from the schema.
 *
 * Why not zod: on the camera the daemon's memory budget is 80 MB + 1.3 × the pre-roll, and loading zod 4 alone
 * costs ~20 MB of RSS (measured: `node -e "await import('zod')"`, 62.7 MB against a bare 43.5 MB). The config is
 * checked once at start-up; this kit does what that needs in a few hundred lines.
 */

export type Path = ReadonlyArray<string | number>;

export interface Issue {
  path: Path;
  message: string;
}

/**
 * What a schema accepts, for the generated configuration reference (`npm run docs` → docs/configuration.md): the
 * kind of value, its bounds, and the schemas nested in it.
 */
export type SchemaInfo =
  | { type: 'number'; int: boolean; min: number; max: number }
  | { type: 'boolean' }
  | { type: 'string'; nonEmpty: boolean; pattern: string | null }
  | { type: 'enum'; values: readonly string[] }
  | { type: 'array'; item: Schema<unknown>; min: number }
  | { type: 'record'; key: RegExp; value: Schema<unknown> }
  | { type: 'object'; shape: Readonly<Record<string, Schema<unknown>>> }
  | { type: 'tagged'; key: string; options: ReadonlyMap<string, Schema<unknown>> }
  | { type: 'optional'; inner: Schema<unknown> };

const INVALID: unique symbol = Symbol('invalid');
type Invalid = typeof INVALID;

export abstract class Schema<T> {
  description = '';
  protected fallback: { value: unknown } | undefined;

  /** Validate `input` at `path`; push issues and return INVALID when it does not conform. */
  protected abstract check(input: unknown, path: Path, issues: Issue[]): T | Invalid;

  /** What this schema accepts (for the generated reference; validation does not use it). */
  abstract info(): SchemaInfo;

  /** The value used when the key is absent, or undefined when there is none. */
  get defaultValue(): { value: unknown } | undefined {
    return this.fallback;
  }

  describe(text: string): this {
    this.description = text;
    return this;
  }

  /** Used when the key is absent. The default itself goes through the schema, so `{}` fills nested defaults. */
  default(value: unknown): this {
    this.fallback = { value };
    return this;
  }

  optional(): Schema<T | undefined> {
    return new OptionalSchema(this);
  }

  run(input: unknown, path: Path, issues: Issue[]): T | Invalid {
    if (input === undefined) {
      if (this.fallback !== undefined) return this.check(structuredClone(this.fallback.value), path, issues);
      issues.push({ path, message: 'required' });
      return INVALID;
    }
    return this.check(input, path, issues);
  }

  /** Every problem at once, or the typed value. */
  safeParse(input: unknown): { ok: true; value: T } | { ok: false; issues: Issue[] } {
    const issues: Issue[] = [];
    const value = this.run(input, [], issues);
    return value === INVALID || issues.length > 0 ? { ok: false, issues } : { ok: true, value };
  }
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

class OptionalSchema<T> extends Schema<T | undefined> {
  readonly #inner: Schema<T>;
  constructor(inner: Schema<T>) {
    super();
    this.#inner = inner;
    this.description = inner.description;
  }
  override run(input: unknown, path: Path, issues: Issue[]): T | undefined | Invalid {
    return input === undefined ? undefined : this.#inner.run(input, path, issues);
  }
  protected check(input: unknown, path: Path, issues: Issue[]): T | Invalid {
    return this.#inner.run(input, path, issues);
  }
  info(): SchemaInfo {
    return { type: 'optional', inner: this.#inner };
  }
}

export class NumberSchema extends Schema<number> {
  #int = false;
  #min = Number.NEGATIVE_INFINITY;
  #max = Number.POSITIVE_INFINITY;
  int(): this {
    this.#int = true;
    return this;
  }
  min(n: number): this {
    this.#min = n;
    return this;
  }
  max(n: number): this {
    this.#max = n;
    return this;
  }
  info(): SchemaInfo {
    return { type: 'number', int: this.#int, min: this.#min, max: this.#max };
  }
  protected check(input: unknown, path: Path, issues: Issue[]): number | Invalid {
    if (typeof input !== 'number' || !Number.isFinite(input)) {
      issues.push({ path, message: `expected number, got ${typeName(input)}` });
      return INVALID;
    }
    const before = issues.length;
    if (this.#int && !Number.isInteger(input)) issues.push({ path, message: 'must be a whole number' });
    if (input < this.#min) issues.push({ path, message: `must be at least ${this.#min}` });
    if (input > this.#max) issues.push({ path, message: `must be at most ${this.#max}` });
    return issues.length > before ? INVALID : input;
  }
}

export class BooleanSchema extends Schema<boolean> {
  info(): SchemaInfo {
    return { type: 'boolean' };
  }
  protected check(input: unknown, path: Path, issues: Issue[]): boolean | Invalid {
    if (typeof input === 'boolean') return input;
    issues.push({ path, message: `expected boolean (true or false), got ${typeName(input)}` });
    return INVALID;
  }
}

export class StringSchema extends Schema<string> {
  #minLength = 0;
  #pattern: { re: RegExp; message: string } | undefined;
  nonEmpty(): this {
    this.#minLength = 1;
    return this;
  }
  regex(re: RegExp, message: string): this {
    this.#pattern = { re, message };
    return this;
  }
  info(): SchemaInfo {
    return { type: 'string', nonEmpty: this.#minLength > 0, pattern: this.#pattern?.message ?? null };
  }
  protected check(input: unknown, path: Path, issues: Issue[]): string | Invalid {
    if (typeof input !== 'string') {
      issues.push({ path, message: `expected string, got ${typeName(input)}` });
      return INVALID;
    }
    if (input.length < this.#minLength) {
      issues.push({ path, message: 'must not be empty' });
      return INVALID;
    }
    if (this.#pattern !== undefined && !this.#pattern.re.test(input)) {
      issues.push({ path, message: this.#pattern.message });
      return INVALID;
    }
    return input;
  }
}

export class EnumSchema<const V extends string> extends Schema<V> {
  readonly values: readonly V[];
  constructor(values: readonly V[]) {
    super();
    this.values = values;
  }
  info(): SchemaInfo {
    return { type: 'enum', values: this.values };
  }
  protected check(input: unknown, path: Path, issues: Issue[]): V | Invalid {
    if (typeof input === 'string' && (this.values as readonly string[]).includes(input)) return input as V;
    issues.push({ path, message: `must be one of ${this.values.map((v) => `"${v}"`).join(', ')}` });
    return INVALID;
  }
}

export class ArraySchema<T> extends Schema<T[]> {
  readonly #item: Schema<T>;
  #min: { n: number; message: string } | undefined;
  constructor(item: Schema<T>) {
    super();
    this.#item = item;
  }
  min(n: number, message: string): this {
    this.#min = { n, message };
    return this;
  }
  info(): SchemaInfo {
    return { type: 'array', item: this.#item, min: this.#min?.n ?? 0 };
  }
  protected check(input: unknown, path: Path, issues: Issue[]): T[] | Invalid {
    if (!Array.isArray(input)) {
      issues.push({ path, message: `expected array, got ${typeName(input)}` });
      return INVALID;
    }
    const before = issues.length;
    const out = input.map((v, i) => this.#item.run(v, [...path, i], issues));
    if (this.#min !== undefined && input.length < this.#min.n) issues.push({ path, message: this.#min.message });
    return issues.length > before ? INVALID : (out as T[]);
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export class RecordSchema<T> extends Schema<Record<string, T>> {
  readonly #key: RegExp;
  readonly #value: Schema<T>;
  constructor(key: RegExp, value: Schema<T>) {
    super();
    this.#key = key;
    this.#value = value;
  }
  info(): SchemaInfo {
    return { type: 'record', key: this.#key, value: this.#value };
  }
  protected check(input: unknown, path: Path, issues: Issue[]): Record<string, T> | Invalid {
    if (!isPlainObject(input)) {
      issues.push({ path, message: `expected object, got ${typeName(input)}` });
      return INVALID;
    }
    const before = issues.length;
    const out: Record<string, T> = {};
    for (const [k, v] of Object.entries(input)) {
      if (!this.#key.test(k)) issues.push({ path: [...path, k], message: `invalid name; must match ${this.#key}` });
      const value = this.#value.run(v, [...path, k], issues);
      if (value !== INVALID) out[k] = value;
    }
    return issues.length > before ? INVALID : out;
  }
}

type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: undefined extends Infer<S[K]> ? K : never }[keyof S];
type Flatten<T> = { [K in keyof T]: T[K] };
export type InferShape<S extends Shape> = Flatten<
  { -readonly [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]> } & {
    -readonly [K in OptionalKeys<S>]?: Exclude<Infer<S[K]>, undefined>;
  }
>;

/** Strict: a key the shape does not name is an error (a misspelt key must not fall back to a default). */
export class ObjectSchema<S extends Shape> extends Schema<InferShape<S>> {
  readonly shape: S;
  constructor(shape: S) {
    super();
    this.shape = shape;
  }
  info(): SchemaInfo {
    return { type: 'object', shape: this.shape };
  }
  protected check(input: unknown, path: Path, issues: Issue[]): InferShape<S> | Invalid {
    if (!isPlainObject(input)) {
      issues.push({ path, message: `expected object, got ${typeName(input)}` });
      return INVALID;
    }
    const before = issues.length;
    for (const k of Object.keys(input)) {
      if (!Object.hasOwn(this.shape, k)) {
        issues.push({ path: [...path, k], message: 'unknown key; remove it or check its spelling' });
      }
    }
    const out: Record<string, unknown> = {};
    for (const [k, schema] of Object.entries(this.shape)) {
      const value = schema.run(input[k], [...path, k], issues);
      if (value !== INVALID && value !== undefined) out[k] = value;
    }
    return issues.length > before ? INVALID : (out as InferShape<S>);
  }
}

/** A union of object schemas told apart by a string key (`kind`). */
export class TaggedUnionSchema<K extends string, U extends ObjectSchema<Shape>> extends Schema<Infer<U>> {
  readonly #key: K;
  readonly #options: Map<string, U>;
  constructor(key: K, options: Record<string, U>) {
    super();
    this.#key = key;
    this.#options = new Map(Object.entries(options));
  }
  info(): SchemaInfo {
    return { type: 'tagged', key: this.#key, options: this.#options };
  }
  protected check(input: unknown, path: Path, issues: Issue[]): Infer<U> | Invalid {
    if (!isPlainObject(input)) {
      issues.push({ path, message: `expected object, got ${typeName(input)}` });
      return INVALID;
    }
    const tag = input[this.#key];
    const schema = typeof tag === 'string' ? this.#options.get(tag) : undefined;
    if (schema === undefined) {
      const names = [...this.#options.keys()].map((n) => `"${n}"`).join(', ');
      issues.push({ path: [...path, this.#key], message: `must be one of ${names}` });
      return INVALID;
    }
    return schema.run(input, path, issues) as Infer<U> | Invalid;
  }
}

/** Builders, so schemas read like the config they describe. */
export const s = {
  number: () => new NumberSchema(),
  /** A whole number in [min, max] with a default (the reference shows bounds and default beside the description). */
  int: (min: number, max: number, def: number, what: string) =>
    new NumberSchema().int().min(min).max(max).default(def).describe(what),
  boolean: () => new BooleanSchema(),
  string: () => new StringSchema(),
  enum: <const V extends string>(values: readonly V[]) => new EnumSchema<V>(values),
  literal: <const V extends string>(value: V) => new EnumSchema<V>([value]),
  array: <T>(item: Schema<T>) => new ArraySchema<T>(item),
  record: <T>(key: RegExp, value: Schema<T>) => new RecordSchema<T>(key, value),
  object: <S extends Shape>(shape: S) => new ObjectSchema<S>(shape),
  tagged: <K extends string, U extends ObjectSchema<Shape>>(key: K, options: Record<string, U>) =>
    new TaggedUnionSchema<K, U>(key, options),
};
