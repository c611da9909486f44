import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseRoles } from './config.js';

describe('config', () => {
  it('defaults to port 8000, ./data and embedded storage with every role', () => {
    const c = loadConfig({});
    expect(c.port).toBe(8000);
    expect(c.dataDir.endsWith('/data')).toBe(true);
    expect(c.database).toEqual({ kind: 'embedded', port: 0 });
    expect(c.bus.kind).toBe('embedded');
    expect(c.roles).toEqual(['api', 'ingest', 'issues', 'alerts', 'uptime', 'insights']);
  });

  it('rejects a bad PORT naming the setting', () => {
    expect(() => loadConfig({ PORT: 'abc' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: 'abc' })).toThrow(/PORT: must be a whole number \(got "abc"\)/);
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT/);
  });

  it('accepts the seeds DB_* settings as well as DATABASE_URL', () => {
    const c = loadConfig({
      DB_HOST: 'db.local',
      DB_PORT: '6543',
      DB_USERNAME: 'app',
      DB_PASSWORD: 'p@ss',
      DB_NAME: 'errors',
    });
    expect(c.database).toEqual({
      kind: 'external',
      url: 'postgres://app:p%40ss@db.local:6543/errors',
      setting: 'DB_HOST',
    });
    const d = loadConfig({ DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/x' });
    expect(d.database).toEqual({
      kind: 'external',
      url: 'postgres://postgres@127.0.0.1:5432/x',
      setting: 'DATABASE_URL',
    });
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL/);
  });

  it('accepts JwtKey as an alias of JWT_KEY and requires one in production', () => {
    const key = 'k'.repeat(40);
    expect(loadConfig({ JwtKey: key }).jwtKey).toBe(key);
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/JWT_KEY: is required in production/);
    expect(() => loadConfig({ JWT_KEY: 'short' })).toThrow(/JWT_KEY/);
  });

  it('switches the bus to Kafka when KAFKA_BROKERS is set and validates it', () => {
    expect(loadConfig({ KAFKA_BROKERS: '127.0.0.1:9092,h2:9093' }).bus).toMatchObject({
      kind: 'kafka',
      brokers: ['127.0.0.1:9092', 'h2:9093'],
    });
    expect(() => loadConfig({ KAFKA_BROKERS: 'nohostport' })).toThrow(/KAFKA_BROKERS/);
    expect(() => loadConfig({ KAFKA_BROKERS: '127.0.0.1:99999' })).toThrow(
      /KAFKA_BROKERS: "127.0.0.1:99999" is not host:port/,
    );
    expect(() => loadConfig({ KAFKA_BROKERS: 'h:0' })).toThrow(/KAFKA_BROKERS/);
  });

  it('parses roles and refuses unknown ones', () => {
    expect(parseRoles('ingest, api')).toEqual(['ingest', 'api']);
    expect(() => parseRoles('ingest,web')).toThrow(/BEACON_ROLES: unknown role "web"/);
  });
});
