/** Every request a stand-in receives, in order: what bad-input tests compare before and after a refusal. */
import type { Server } from 'node:http';

export interface LoggedRequest {
  method: string;
  url: string;
  /** The X-Amz-Target header (the operation of an AWS JSON-protocol call), when there is one. */
  target?: string;
}

/** Records each request `server` receives (before any handler) into the returned list. */
export function logRequests(server: Server): LoggedRequest[] {
  const log: LoggedRequest[] = [];
  server.prependListener('request', (req) => {
    const target = req.headers['x-amz-target'];
    log.push({ method: req.method ?? '', url: req.url ?? '', ...(typeof target === 'string' ? { target } : {}) });
  });
  return log;
}
