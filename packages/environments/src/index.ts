export * from './config';
export * from './github';
export * from './sync';
export { main, USAGE, type CliIO } from './cli';
export * from './aws-config';
export * from './errors';
