// Small shared pieces: state badges, fields, dialogs, toasts, copyable code, polling.

import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

export function navigate(path: string) {
  location.hash = `#${path}`;
}

/** Cluster states in which an operation is running; the console polls faster while one is shown. */
export const TRANSIENT = new Set([
  'Created',
  'Starting',
  'Stopping',
  'Scaling',
  'ScalingStoppedCluster',
  'Upgrading',
  'Importing',
  'RemovingNodes',
  'Recovering',
  'Destroying',
]);

export function StateBadge({ state }: { state: string }) {
  const kind =
    state === 'Running' || state === 'Enabled' || state === 'Ready'
      ? 'ok'
      : state === 'Alert' || state === 'Error'
        ? 'bad'
        : state === 'Stopped' || state === 'Disabled' || state === 'Destroyed'
          ? 'off'
          : 'busy';
  return (
    <span class={`badge badge-${kind}`} data-state={state}>
      {kind === 'busy' && <span class="spinner" aria-hidden="true" />}
      {state}
    </span>
  );
}

export function Field(props: {
  label: string;
  hint?: string;
  error?: string;
  children: ComponentChildren;
}) {
  return (
    <label class={`field${props.error ? ' field-invalid' : ''}`}>
      <span class="field-label">{props.label}</span>
      {props.children}
      {props.error ? (
        <span class="field-error">{props.error}</span>
      ) : (
        props.hint && <span class="field-hint">{props.hint}</span>
      )}
    </label>
  );
}

export function Alert(props: { kind?: 'error' | 'info'; children: ComponentChildren }) {
  return (
    <div class={`alert alert-${props.kind ?? 'error'}`} role="alert">
      {props.children}
    </div>
  );
}

export function Modal(props: { title: string; onClose: () => void; children: ComponentChildren }) {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && props.onClose();
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [props.onClose]);
  return (
    <div class="modal-backdrop" onClick={(e) => e.target === e.currentTarget && props.onClose()}>
      <div class="modal" role="dialog" aria-modal="true" aria-label={props.title}>
        <header class="modal-header">
          <h2>{props.title}</h2>
          <button type="button" class="icon-button" aria-label="Close" onClick={props.onClose}>
            ×
          </button>
        </header>
        {props.children}
      </div>
    </div>
  );
}

export function CopyBlock({ text, label }: { text: string; label?: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // Without clipboard permission, select the text so the user can copy it by hand.
      const range = document.createRange();
      const pre = document.getElementById(`copy-${hashOf(text)}`);
      if (pre) {
        range.selectNodeContents(pre);
        getSelection()?.removeAllRanges();
        getSelection()?.addRange(range);
      }
    }
    setCopied(true);
    setTimeout(() => setCopied(false), 1500);
  };
  return (
    <div class="copy-block">
      {label && <div class="copy-label">{label}</div>}
      <pre id={`copy-${hashOf(text)}`}>
        <code>{text}</code>
      </pre>
      <button type="button" class="button button-small copy-button" onClick={copy}>
        {copied ? 'Copied' : 'Copy'}
      </button>
    </div>
  );
}

function hashOf(text: string): string {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (h * 31 + text.charCodeAt(i)) | 0;
  return (h >>> 0).toString(36);
}

// Toasts: one line each about an operation that runs in the background.
export interface Toast {
  id: number;
  kind: 'info' | 'ok' | 'error';
  text: string;
}
let toastId = 0;
let toastListener: (toasts: Toast[]) => void = () => {};
let toasts: Toast[] = [];

export function toast(kind: Toast['kind'], text: string) {
  const item = { id: ++toastId, kind, text };
  toasts = [...toasts, item];
  toastListener(toasts);
  setTimeout(
    () => {
      toasts = toasts.filter((t) => t.id !== item.id);
      toastListener(toasts);
    },
    kind === 'error' ? 12000 : 5000,
  );
}

export function Toasts() {
  const [items, setItems] = useState<Toast[]>(toasts);
  useEffect(() => {
    toastListener = setItems;
    return () => {
      toastListener = () => {};
    };
  }, []);
  return (
    <div class="toasts" aria-live="polite">
      {items.map((t) => (
        <div key={t.id} class={`toast toast-${t.kind}`}>
          {t.text}
        </div>
      ))}
    </div>
  );
}

/**
 * Calls `load` now and then every `intervalMs()` milliseconds (read again after each load, so the
 * rate can follow what was loaded), while the component is mounted.
 */
export function usePolling(load: () => Promise<void>, intervalMs: () => number, deps: unknown[]) {
  const loadRef = useRef(load);
  loadRef.current = load;
  const intervalRef = useRef(intervalMs);
  intervalRef.current = intervalMs;
  useEffect(() => {
    let stopped = false;
    let timer: number | undefined;
    const tick = async () => {
      try {
        await loadRef.current();
      } finally {
        if (!stopped) timer = window.setTimeout(tick, intervalRef.current());
      }
    };
    tick();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, deps);
}

export function formatMemory(mb: number | string | undefined): string {
  const n = Number(mb ?? 0);
  return n >= 1024 ? `${(n / 1024).toFixed(n % 1024 ? 1 : 0)} GiB` : `${n} MiB`;
}

export function formatDate(value: string | undefined): string {
  if (!value) return '';
  const d = new Date(value.replace(/([+-]\d\d)(\d\d)$/, '$1:$2'));
  return Number.isNaN(d.getTime()) ? value : d.toLocaleString();
}
