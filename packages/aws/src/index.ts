export * from './client';
export * from './errors';
export * from './ecr';
export * from './ecr-api';
export * from './ecr-sdk';
export * from './json-client';
export * from './repository-policy';
