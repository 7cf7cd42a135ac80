import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseCompose } from '../../scripts/containers/compose-file.ts';
import { healthShell, planCompose, runArgs } from '../../scripts/containers/compose-plan.ts';
import { readCompose, readDotenv, readText } from './compose-file.ts';

// How `pnpm containers` turns docker-compose.yml into podman runs (the run itself needs root and
// podman: CI's containers step).

const projectDir = fileURLToPath(new URL('../../', import.meta.url));
const plan = planCompose(readCompose(), {
  project: 'rfqcheck1',
  projectDir,
  env: readDotenv('.env.example'),
  profiles: ['observability'],
  exclude: ['grafana'],
  builtImage: 'sha256:abc',
});
const service = (name: string) => plan.services.find((s) => s.service === name)!;

describe('docker-compose.yml on podman', () => {
  it('starts every service of the sim and observability profiles but the one left out, dependencies first', () => {
    const order = plan.services.map((s) => s.service);
    expect([...order].sort()).toEqual(
      ['api', 'callback-ingest', 'dashboard', 'prometheus', 'redis', 'runflow-sim', 'worker'].sort(),
    );
    for (const s of plan.services) {
      for (const dependency of s.dependsOn)
        expect(order.indexOf(dependency.service)).toBeLessThan(order.indexOf(s.service));
    }
    expect(service('worker').replicas).toBe(3);
  });

  it('runs each replica as compose would: name, network alias, grace, env from .env.example, volumes', () => {
    const args = runArgs(plan, service('worker'), 2);
    const valuesOf = (flag: string) => args.filter((_, i) => args[i - 1] === flag);
    expect(valuesOf('--name')).toEqual(['rfqcheck1-worker-2']);
    expect(valuesOf('--network-alias')).toEqual(['worker']);
    expect(valuesOf('--stop-timeout')).toEqual(['50']);
    expect(valuesOf('--env')).toContain('RUNFLOW_API_KEY=sim-local-key');
    expect(valuesOf('--env')).toContain('CALLBACK_URL=http://callback-ingest:3000/v1/callbacks/runflow');
    // The image this run built, by ID, then the service's command.
    expect(args.slice(-3)).toEqual(['sha256:abc', 'node', 'apps/worker/src/main.ts']);
    const redis = runArgs(plan, service('redis'), 1);
    expect(redis).toContain('rfqcheck1_redis-data:/data');
    expect(redis).toContain(`${projectDir}infra/redis/redis.conf:/usr/local/etc/redis/redis.conf:ro`);
    expect(redis).toContain('docker.io/library/redis:7.4.2-alpine');
  });

  it('gives podman each healthcheck as a shell line that runs exactly the file’s argv', () => {
    for (const s of plan.services) {
      const [, ...argv] = s.healthcheck!.test;
      const echoed = execFileSync(
        'sh',
        ['-c', `printf '[%s]' ${healthShell(['CMD', 'printf', ...argv]).replace(/^'printf' /, '')}`],
        {
          encoding: 'utf8',
        },
      );
      expect(echoed, s.service).toBe(argv.map((a) => `[${a}]`).join(''));
    }
  });

  it('refuses a compose key it does not translate, and a missing required variable', () => {
    const file = parseCompose(readText('docker-compose.yml'));
    (file.services.api as Record<string, unknown>).cap_add = ['NET_ADMIN'];
    expect(() => planCompose(file, { project: 'p', projectDir, env: readDotenv('.env.example') })).toThrow(
      /service api: cap_add not translated/,
    );
    expect(() => planCompose(readCompose(), { project: 'p', projectDir, env: {} })).toThrow(
      'service callback-ingest: CALLBACK_SECRETS: set CALLBACK_SECRETS (cp .env.example .env)',
    );
  });
});
