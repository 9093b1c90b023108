/**
 * The profile file `ferry.yaml`: loading with line-accurate errors, the schema, and the exported
 * JSON Schema. Paths in a loaded profile are absolute (resolved against the profile's folder).
 */
export {
  loadProfile,
  MAX_PROFILE_BYTES,
  profileFromYaml,
  profileVars,
  type LoadedProfileInfo,
} from './load.js';
export {
  ProfileSchema,
  profileJsonSchema,
  ARCH_VALUES,
  type Profile,
  type ExtraFileSpec,
  type ExtraImageSpec,
} from './schema.js';
