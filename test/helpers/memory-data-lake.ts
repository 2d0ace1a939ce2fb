import { DataLakeStore } from '../../core/collection/collector';

/** An in-memory data lake that counts writes, for collector tests. */
export class MemoryDataLake implements DataLakeStore {
  readonly objects = new Map<string, { body: string; contentType: string }>();
  puts = 0;

  async put(key: string, body: string, contentType: string): Promise<void> {
    this.puts += 1;
    this.objects.set(key, { body, contentType });
  }

  async get(key: string): Promise<string | undefined> {
    return this.objects.get(key)?.body;
  }

  json(key: string): unknown {
    const object = this.objects.get(key);
    if (!object) throw new Error(`no object at ${key}; have ${[...this.objects.keys()].join(', ')}`);
    return JSON.parse(object.body);
  }
}
