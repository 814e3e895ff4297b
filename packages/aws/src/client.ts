/**
 * How every AWS SDK client of the actions is made: no SDK retries (awsCall is the one retry
 * layer), a connection deadline and a whole-request deadline (DEADLINES), and the endpoint
 * host written on any error so a fault's line can name whom it waited for.
 */
import { DEADLINES } from '@deploy-actions/action-kit';

export interface AwsClientConfig {
  region: string;
  maxAttempts: number;
  requestHandler: { connectionTimeout: number; requestTimeout: number; throwOnRequestTimeout: boolean };
}

export function awsClientConfig(region: string): AwsClientConfig {
  return {
    region,
    maxAttempts: 1,
    requestHandler: { connectionTimeout: DEADLINES.connectMs, requestTimeout: DEADLINES.awsMs, throwOnRequestTimeout: true },
  };
}

interface FinalizeArgs {
  request?: { protocol?: string; hostname?: string; port?: number };
}
interface MiddlewareStackLike {
  add(
    mw: (next: (args: FinalizeArgs) => Promise<unknown>) => (args: FinalizeArgs) => Promise<unknown>,
    opts: { step: 'finalizeRequest'; name: string },
  ): void;
}

/** Adds `$endpoint` (`https://host[:port]`) to every error a request of `client` ends in; returns the client. */
export function reportEndpoint<C extends { middlewareStack: unknown }>(client: C): C {
  (client.middlewareStack as MiddlewareStackLike).add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (err) {
        const r = args.request;
        if (err && typeof err === 'object' && r?.hostname) {
          Object.assign(err, { $endpoint: `${r.protocol ?? 'https:'}//${r.hostname}${r.port ? `:${r.port}` : ''}` });
        }
        throw err;
      }
    },
    { step: 'finalizeRequest', name: 'deployActionsReportEndpoint' },
  );
  return client;
}
