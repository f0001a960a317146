/**
 * The storage capability that extensions such as `file_storage` offer, and that receivers
 * (checkpoints) and exporters (persistent queues) use. Mirrors upstream's storage client:
 * string keys, byte values, `get` of a missing key gives `undefined`.
 *
 * @module
 */

import type { ComponentId, Extension, Host, Kind } from "./component.ts";

/** One operation inside an atomic {@linkcode StorageClient.batch}. */
export type StorageOperation =
  | { type: "get"; key: string; value?: Uint8Array | undefined }
  | { type: "set"; key: string; value: Uint8Array }
  | { type: "delete"; key: string };

/** A component's private key-value store. */
export interface StorageClient {
  /** The stored value, or `undefined` when the key is missing. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Stores `value` under `key`, replacing what was there. */
  set(key: string, value: Uint8Array): Promise<void>;
  /** Removes `key`; no error when it is missing. */
  delete(key: string): Promise<void>;
  /**
   * Applies `ops` in order in one transaction: all or nothing. The results of `get`
   * operations are written into their `value` fields.
   */
  batch(ops: StorageOperation[]): Promise<void>;
  /** Releases the client; further calls reject. */
  close(): Promise<void>;
}

/** An extension that hands out storage clients. */
export interface StorageExtension extends Extension {
  /**
   * Returns the client for one component. `storageName` separates several stores of the
   * same component (the exporter's queue uses the signal name, e.g. "logs").
   */
  getClient(kind: Kind, id: ComponentId, storageName?: string): Promise<StorageClient>;
}

/** True when `ext` offers storage. */
export function isStorageExtension(ext: Extension | undefined): ext is StorageExtension {
  return ext !== undefined && typeof (ext as Partial<StorageExtension>).getClient === "function";
}

/**
 * Looks up the storage extension `extensionId` on the host and opens this component's
 * client; throws an error naming the id when it is missing or is not a storage extension.
 */
export async function getStorageClient(
  host: Host,
  extensionId: string,
  kind: Kind,
  id: ComponentId,
  storageName?: string,
): Promise<StorageClient> {
  const ext = host.getExtension(extensionId);
  if (ext === undefined) {
    throw new Error(
      `Storage extension "${extensionId}" is not running: define it under "extensions" and list it in "service::extensions"`,
    );
  }
  if (!isStorageExtension(ext)) {
    throw new Error(`Extension "${extensionId}" is not a storage extension`);
  }
  return await ext.getClient(kind, id, storageName);
}
