/**
 * The data lake as a local directory: the same deterministic keys as S3 (`builds/project=.../...json`),
 * written atomically, so a rewrite overwrites and `pipemend replay --data DIR` reads what backfill and
 * the collector wrote.
 */
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import * as path from 'node:path';

import { DataLakeStore } from '../core/collection/collector';

export class FileDataLake implements DataLakeStore {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  /** Files carry no content type; the key's extension says it. */
  async put(key: string, body: string, _contentType?: string): Promise<void> {
    const file = this.fileOf(key);
    await mkdir(path.dirname(file), { recursive: true });
    // Write then rename: a reader never sees half a record, and a rewrite replaces it whole.
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, body, 'utf8');
    await rename(temporary, file);
  }

  async get(key: string): Promise<string | undefined> {
    try {
      return await readFile(this.fileOf(key), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** Every key under a prefix (e.g. `builds/`), sorted, for readers such as the replay. */
  async list(prefix: string): Promise<string[]> {
    const directory = this.fileOf(prefix);
    let entries: string[];
    try {
      entries = await readdir(directory, { recursive: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const keys: string[] = [];
    for (const entry of entries) {
      if (entry.endsWith('.tmp')) continue;
      const key = path.posix.join(prefix, entry.split(path.sep).join('/'));
      if (/\.(json|csv)$/.test(key)) keys.push(key);
    }
    return keys.sort();
  }

  /** Keys are relative, `/`-separated and never escape the root. */
  private fileOf(key: string): string {
    const file = path.resolve(this.root, ...key.split('/'));
    if (file !== this.root && !file.startsWith(`${this.root}${path.sep}`)) {
      throw new Error(`data-lake key '${key}' escapes the directory ${this.root}`);
    }
    return file;
  }
}
