export * from './kubeconfig';
export * from './credentials';
export * from './client';
export * from './reflector';
