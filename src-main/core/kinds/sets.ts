/**
 * The plan ⇄ fetch contracts of the package kinds: what `plan` resolves and plan.json carries,
 * and what each kind's fetch consumes. Schemas only (zod, no I/O), so the plan stage can hold
 * them without reaching into a kind's machinery: one of the kinds' three doors, with
 * kinds/index.ts (the registry) and kinds/labels.ts (the words).
 */
export { ResolvedDebSetSchema, type ResolvedDebSet } from './deb/set.js';
export { ResolvedRpmSetSchema, type ResolvedRpmSet } from './rpm/set.js';
export { ResolvedWheelSetSchema, type ResolvedWheelSet } from './python/set.js';
export { PythonRequestSchema, type PythonRequest } from './python/request.js';
