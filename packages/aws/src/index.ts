export * from './client';
export * from './errors';
export * from './ecr';
export * from './repository-policy';
