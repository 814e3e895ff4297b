import { createServer } from 'node:net';
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { describe, expect, test } from 'vitest';
import { awsCall, awsClientConfig, reportEndpoint } from '../src';

const noSleep = async () => undefined;

// A file of its own: aws.test.ts mocks ECRClient's send for every instance.
describe('a real SDK client behind awsCall', () => {
  test('a real ECR client against a listener that resets: every attempt made, the endpoint named', async () => {
    const server = createServer((s) => s.resetAndDestroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const ecr = reportEndpoint(new ECRClient({ ...awsClientConfig('eu-west-1'), endpoint: url, credentials: { accessKeyId: 'AKID', secretAccessKey: 's' } }));
    let n = 0;
    const err = (await awsCall('ecr:DescribeImages', 'team/app', () => (n++, ecr.send(new DescribeImagesCommand({ repositoryName: 'team/app' }))), { sleep: noSleep, attempts: 3 }).catch((e: Error) => e)) as Error;
    server.close();
    expect(n).toBe(3);
    expect(err.message).toMatch(new RegExp(`^ecr:DescribeImages on team/app: ${url.replace(/\./g, '\\.')}: the connection was reset \\(3 attempts, [\\d.]+ s waited\\)$`));
  });

});
