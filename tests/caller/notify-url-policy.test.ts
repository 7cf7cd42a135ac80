import * as notifier from '@runflow-queue/notifier';
import * as producer from '@runflow-queue/producer';
import { describe, expect, it } from 'vitest';

const URLS = [
  'https://hooks.example.com/runflow',
  'http://hooks.example.com/runflow',
  'https://127.0.0.1/x',
  'http://127.0.0.1:3000/x',
  'http://localhost:3000/x',
  'http://api.localhost/x',
  'https://[::1]/x',
  'https://10.0.0.1/x',
  'https://172.31.255.255/x',
  'https://172.32.0.1/x',
  'https://192.168.0.1/x',
  'https://169.254.169.254/x',
  'https://100.100.100.200/x',
  'https://[fc00::1]/x',
  'https://[fe80::1]/x',
  'https://[::ffff:192.168.0.1]/x',
  'https://0.0.0.0/x',
  'https://224.0.0.1/x',
  'https://8.8.8.8/x',
  'mailto:ops@example.com',
  '',
];
const POLICIES = [
  {},
  { allowHttpLoopback: true },
  { allowPrivateNetworks: true },
  { allowHttpLoopback: true, allowPrivateNetworks: true },
];

describe('notifyUrl policy', () => {
  it('is the same policy in producer (enqueue) and notifier (delivery): one implementation in shared', () => {
    for (const policy of POLICIES) {
      for (const url of URLS) {
        expect(notifier.notifyUrlRejection(url, policy), url).toBe(producer.notifyUrlRejection(url, policy));
      }
    }
  });

  it('accepts public https; http only to loopback when allowed; private networks only when allowed', () => {
    const allowed = (url: string, policy = {}) => producer.notifyUrlRejection(url, policy) === undefined;
    expect(allowed('https://hooks.example.com/runflow')).toBe(true);
    expect(allowed('https://8.8.8.8/x')).toBe(true);
    expect(allowed('https://172.32.0.1/x')).toBe(true);
    expect(allowed('http://hooks.example.com/runflow')).toBe(false);
    expect(allowed('http://127.0.0.1:3000/x')).toBe(false);
    expect(allowed('http://127.0.0.1:3000/x', { allowHttpLoopback: true })).toBe(true);
    expect(allowed('http://localhost:3000/x', { allowHttpLoopback: true })).toBe(true);
    expect(allowed('http://10.0.0.1/x', { allowHttpLoopback: true, allowPrivateNetworks: true })).toBe(false);
    expect(allowed('https://10.0.0.1/x', { allowPrivateNetworks: true })).toBe(true);
    expect(allowed('https://[::ffff:192.168.0.1]/x')).toBe(false);
    expect(allowed('https://100.100.100.200/x')).toBe(false);
    expect(allowed('https://0.0.0.0/x', { allowHttpLoopback: true, allowPrivateNetworks: true })).toBe(false);
    expect(allowed('https://224.0.0.1/x', { allowPrivateNetworks: true })).toBe(false);
  });
});
