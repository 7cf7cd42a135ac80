import { describe, expect, it } from 'vitest';
import { embeddedIPv4 } from './embedded-ipv4.ts';
import { classifyAddress, notifyUrlRejection } from './notify-url-policy.ts';

describe('IPv4 embedded in IPv6', () => {
  it('finds the IPv4 address in every form that carries one, written either way', () => {
    expect(embeddedIPv4('::127.0.0.1')).toBe('127.0.0.1');
    expect(embeddedIPv4('::7f00:1')).toBe('127.0.0.1'); // what new URL() makes of [::127.0.0.1]
    expect(embeddedIPv4('::ffff:10.0.0.5')).toBe('10.0.0.5');
    expect(embeddedIPv4('::ffff:a00:5')).toBe('10.0.0.5');
    expect(embeddedIPv4('::ffff:0:a9fe:a9fe')).toBe('169.254.169.254');
    expect(embeddedIPv4('64:ff9b::7f00:1')).toBe('127.0.0.1');
    expect(embeddedIPv4('64:ff9b::192.168.1.1')).toBe('192.168.1.1');
    expect(embeddedIPv4('2002:c0a8:101::1')).toBe('192.168.1.1');
    expect(embeddedIPv4('2002:0808:0808:1:2:3:4:5')).toBe('8.8.8.8');
  });

  it('finds none in plain IPv6 addresses, nor in :: and ::1', () => {
    for (const address of ['::', '::1', '2001:db8::1', 'fe80::1', '2606:4700::1111', '127.0.0.1', 'example.com']) {
      expect(embeddedIPv4(address), address).toBeUndefined();
    }
  });

  it('judges such an address as its IPv4 address', () => {
    expect(classifyAddress('::7f00:1')).toBe('loopback');
    expect(classifyAddress('64:ff9b::a00:5')).toBe('private');
    expect(classifyAddress('2002:a9fe:a9fe::')).toBe('private');
    expect(classifyAddress('64:ff9b::808:808')).toBe('public');
    expect(classifyAddress('64:ff9b:1::1')).toBe('reserved');
    for (const url of [
      'https://[::127.0.0.1]/',
      'https://[64:ff9b::7f00:1]/',
      'https://[2002:7f00:1::]/',
      'https://[::ffff:0:7f00:1]/',
    ]) {
      expect(notifyUrlRejection(url, {}), url).toMatch(/loopback/);
    }
    expect(notifyUrlRejection('https://[64:ff9b::808:808]/hook', {})).toBeUndefined();
    expect(notifyUrlRejection('https://[::127.0.0.1]/', { allowHttpLoopback: true })).toBeUndefined();
  });
});
