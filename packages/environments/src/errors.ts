/** A problem with the environments file; its message starts with the file and the place in it. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}
