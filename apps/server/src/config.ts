/**
 * Where option values come from, and which wins: command-line flags > environment variables (`PROJ_SERVER_*`) >
 * the JSON config file (`--config FILE` or `PROJ_SERVER_CONFIG`) > start-up prompts (terminal only, for what is
 * still unset) > defaults. Every setting is listed once, in ./settings.ts.
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseCount, parsePort } from '@proj/cli-kit';
import {
  LISTEN_PORT,
  parseBoolean,
  parseDuration,
  parseLogLevel,
  parseOutput,
  parseSize,
  UsageError,
  type ServerLimits,
  type StartOptions,
} from './options';
import { envName, SETTINGS, type Setting } from './settings';

export const CONFIG_ENV = 'PROJ_SERVER_CONFIG';

export interface Gathered {
  options: StartOptions;
  /** Setting keys that some source set. */
  set: Set<string>;
}

/**
 * Merges the sources. `flags` are commander's parsed values (undefined when absent); relative paths from flags
 * and the environment resolve against `cwd`, those from the config file against the file's directory.
 */
export async function gatherOptions(params: {
  flags: Record<string, unknown>;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Data directory when no source sets one. */
  defaultDataDir: string;
  configFile?: string;
}): Promise<Gathered> {
  const { flags, env, cwd } = params;
  const configPath = params.configFile ?? env[CONFIG_ENV];
  const fromFile = configPath ? await readConfigFile(resolve(cwd, configPath)) : undefined;

  const options: Record<string, unknown> = {};
  const limits: Partial<ServerLimits> = {};
  const set = new Set<string>();
  for (const setting of SETTINGS) {
    let raw: unknown;
    let base = cwd;
    let where: string;
    if (flags[setting.key] !== undefined) {
      raw = flags[setting.key];
      where = setting.flag;
    } else if (env[envName(setting)] !== undefined && env[envName(setting)] !== '') {
      raw = env[envName(setting)];
      where = envName(setting);
    } else if (fromFile && fromFile.values[setting.key] !== undefined) {
      raw = fromFile.values[setting.key];
      base = dirname(fromFile.path);
      where = `${setting.key} in ${fromFile.path}`;
    } else {
      continue;
    }
    const value = parseValue(setting, raw, where, base);
    set.add(setting.key);
    if (setting.target.startsWith('limits.')) (limits as Record<string, unknown>)[setting.target.slice(7)] = value;
    else options[setting.target] = value;
  }
  return {
    options: { dataDir: params.defaultDataDir, ...options, limits } as StartOptions,
    set,
  };
}

function parseValue(setting: Setting, raw: unknown, where: string, base: string): unknown {
  if (setting.kind === 'bool') {
    if (typeof raw !== 'boolean' && typeof raw !== 'string') throw new UsageError(`${where} must be true or false`);
    return parseBoolean(raw, where);
  }
  if (typeof raw !== 'string' && typeof raw !== 'number') throw new UsageError(`${where} must be a string or a number`);
  switch (setting.kind) {
    case 'string':
      return String(raw);
    case 'path':
      return isAbsolute(String(raw)) ? String(raw) : resolve(base, String(raw));
    case 'port':
      return parsePort(trimmed(raw), where, LISTEN_PORT);
    case 'size':
      return parseSize(raw, where);
    case 'duration':
      return parseDuration(raw, where);
    case 'count':
      return parseCount(trimmed(raw), where);
    case 'output':
      return parseOutput(String(raw), where);
    case 'logLevel':
      return parseLogLevel(String(raw), where);
  }
}

/** Numbers may come padded with spaces (an environment variable, a config string). */
function trimmed(raw: string | number): string | number {
  return typeof raw === 'string' ? raw.trim() : raw;
}

async function readConfigFile(path: string): Promise<{ path: string; values: Record<string, unknown> }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read the config file ${path}: ${(err as Error).message}`);
  }
  let values: unknown;
  try {
    values = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`config file ${path} is not JSON: ${(err as Error).message}`);
  }
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    throw new UsageError(`config file ${path} must hold a JSON object`);
  }
  const known = new Set(SETTINGS.map((s) => s.key));
  for (const key of Object.keys(values)) {
    if (!known.has(key))
      throw new UsageError(`config file ${path}: unknown key ${JSON.stringify(key)}; known: ${[...known].join(', ')}`);
  }
  return { path, values: values as Record<string, unknown> };
}
