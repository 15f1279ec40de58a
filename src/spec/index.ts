export { loadSpec, parseSpecText, flagName, COMMAND_LINE } from './load.js';
export type { LoadSpecOptions, ParseSpecOptions, SpecOverrides } from './load.js';
export { parseSections } from './sections.js';
export type { ParsedSections } from './sections.js';
export { specSettingsSchema, specSettingsKeys, providerNames } from './schema.js';
export type { SpecSettings, SpecSettingsInput, SpecSettingsKey, ProviderName } from './schema.js';
export { specJsonSchema, SPEC_SCHEMA_ID } from './json-schema.js';
export type { Spec, FileSection, IncludedFile } from './types.js';
