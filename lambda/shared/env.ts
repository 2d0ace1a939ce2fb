/** Environment access that fails loudly: a missing variable is a deployment error, not a default. */
import { getNumberFromEnv, getStringFromEnv } from '@aws-lambda-powertools/commons/utils/env';

export function requireEnv(key: string): string {
  return getStringFromEnv({ key, errorMessage: `Environment variable ${key} is required but not set` });
}

export function optionalEnv(key: string): string | undefined {
  const value = process.env[key];
  return value === undefined || value === '' ? undefined : value;
}

export function numberEnv(key: string, defaultValue: number): number {
  return getNumberFromEnv({
    key,
    defaultValue,
    errorMessage: `Environment variable ${key} must be a number`,
  });
}

/** A variable's JSON value; text that is not JSON is a deployment error naming the variable. */
export function parseJsonEnv(key: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`Environment variable ${key} is not JSON: ${(error as Error).message}`);
  }
}
