import type { Finding, StreamFormat } from "../../guardrail.ts";
import { Redactor } from "../inspect/redactor.ts";
import { scanText } from "../inspect/scan.ts";
import type { Policy } from "../policy/policy.ts";
import { DIALECTS, type Snapshot } from "./formats.ts";
import { advance, LEX_START, safeSpans, type LexState } from "./json-fragment.ts";
import { serializeEvent, type SseEvent } from "./sse.ts";

/**
 * Characters of text held back per channel before they are sent: long enough for a secret
 * or card number split across chunks to be seen whole and redacted, short enough that the
 * reader does not notice. This is the only buffering the scanner adds.
 */
export const DEFAULT_WINDOW = 160;

/**
 * Events leave in order, so a channel that goes quiet without saying it ended (no finish
 * reason, no block stop) would hold every later event behind its window. Past this many
 * windows of held text in all, such a channel's tail is released without waiting for more.
 */
const MAX_HELD_WINDOWS = 16;

/** While a channel holds no more than a window, it is scanned each time this many characters have come in. */
const SCAN_EVERY = 32;

/** One text stream (a choice's content, a tool call's arguments, a content block). */
interface Channel {
  key: string;
  json: boolean;
  /** Text received and not yet sent. */
  buffer: string;
  /** The end of what was sent, scanned with the buffer so that a match split across events is seen. */
  lookBehind: string;
  sentChars: number;
  /** The provider said this stream ended: nothing more can join its tail, so none is held. */
  closed: boolean;
  /** JSON lexer state where `buffer` starts (json channels). */
  lex: LexState;
  /** Per flush: where sending stops, and the spans to replace. */
  boundary: number;
  redactions: Finding[];
  /** Per flush: every finding in look-behind + buffer, offsets relative to the buffer. */
  found: Finding[];
  /** The buffer `found` was scanned from (null: none since it last changed). */
  scanned: string | null;
  /** Characters added since the last scan. */
  unscanned: number;
}

interface HeldSlot {
  channel: Channel;
  /** Offsets of this slot's text in its channel's buffer. */
  start: number;
  end: number;
  set(text: string): void;
}

interface Held {
  event: SseEvent;
  json: unknown;
  slots: HeldSlot[];
  /** A snapshot in the event was redacted: it must be re-serialized. */
  changed: boolean;
}

export interface ScanOutput {
  /** The events that may leave now, in order. */
  text: string;
  /** Set when a block rule fired: nothing more leaves, and the stream ends with `blockedEvent()`. */
  blocked?: Finding;
}

/**
 * Redacts text in place as SSE events pass, or stops the stream with the provider's own error
 * event when a block rule fires. Every channel is scanned with a look-behind of what it already
 * sent and holds back at most a window; events leave in their original order, re-serialized
 * only when something in them was redacted. The caller frames the stream and parses each
 * event's data once (the router reads usage from the same events): `add` each event, then
 * `flush` what may leave.
 */
export class StreamScanner {
  private readonly redactor: Redactor;
  private readonly channels = new Map<string, Channel>();
  /** The channel each group last wrote to. */
  private readonly groups = new Map<string, Channel>();
  private readonly held: Held[] = [];
  private blocked: Finding | undefined;
  private readonly policy: Policy;
  private readonly format: StreamFormat;
  private readonly window: number;
  readonly findings: Finding[] = [];

  constructor(policy: Policy, placeholderOf: (detector: string) => string, format: StreamFormat, window = DEFAULT_WINDOW) {
    this.policy = policy;
    this.format = format;
    this.window = window;
    this.redactor = new Redactor(policy.settings.redaction, placeholderOf);
  }

  errorEvent(message: string, code: string): string {
    return DIALECTS[this.format].error(message, code);
  }

  /** The event a blocked answer ends with, in the provider's dialect. */
  blockedEvent(finding: Finding): string {
    return this.errorEvent(`Blocked by Airlock guardrail: ${finding.detector} (${finding.category}) in the response`, "content_blocked");
  }

  private channel(key: string, json: boolean): Channel {
    let channel = this.channels.get(key);
    if (!channel) {
      channel = { key, json, buffer: "", lookBehind: "", sentChars: 0, closed: false, lex: LEX_START, boundary: 0, redactions: [], found: [], scanned: null, unscanned: 0 };
      this.channels.set(key, channel);
    }
    return channel;
  }

  /** Takes one event with its data parsed (undefined when not JSON); it leaves with a later `flush`. */
  add(event: SseEvent, json: unknown): void {
    const held: Held = { event, json, slots: [], changed: false };
    this.held.push(held);
    if (json === undefined) return;
    const reading = DIALECTS[this.format].read(json);
    for (const snapshot of reading.snapshots) {
      const text = this.redactWhole(snapshot);
      if (text !== snapshot.text) {
        snapshot.set(text);
        held.changed = true;
      }
    }
    for (const slot of reading.slots) {
      const channel = this.channel(slot.channel, slot.json === true);
      if (slot.group !== undefined) {
        const previous = this.groups.get(slot.group);
        if (previous && previous !== channel) previous.closed = true;
        this.groups.set(slot.group, channel);
      }
      channel.closed = false;
      const start = channel.buffer.length;
      channel.buffer += slot.text;
      channel.unscanned += slot.text.length;
      held.slots.push({ channel, start, end: channel.buffer.length, set: slot.set });
    }
    for (const prefix of reading.closes) {
      for (const channel of this.channels.values()) if (channel.key.startsWith(prefix)) channel.closed = true;
    }
  }

  /** Scans a complete string and returns it redacted; a block rule stops the stream. */
  private redactWhole(snapshot: Snapshot): string {
    const found = scanText(snapshot.text, "response", this.policy, snapshot.path);
    const blocking = found.find((f) => f.action === "block");
    if (blocking && !this.blocked) {
      this.blocked = blocking;
      this.findings.push(blocking);
    }
    if (!snapshot.repeat) this.findings.push(...found.filter((f) => f.action !== "block"));
    let spans = found.filter((f) => f.action === "redact");
    if (snapshot.json) spans = safeSpans(snapshot.text, LEX_START, spans);
    return this.redactor.apply(snapshot.text, spans);
  }

  /** The events that may leave now; `final` once the stream has ended (then nothing is held). */
  flush(final: boolean): ScanOutput {
    if (this.blocked) return { text: "", blocked: this.blocked };
    let total = 0;
    for (const channel of this.channels.values()) total += channel.buffer.length;
    const overHeld = total > this.window * MAX_HELD_WINDOWS;
    for (const channel of this.channels.values()) {
      const open = !final && !channel.closed;
      // Text within a window cannot leave yet, so its scan only has to find a block early: it
      // runs once SCAN_EVERY characters have come in since the last (or the channel ends), not
      // at every event of a short answer. Nothing of the channel is sent meanwhile.
      if (open && !overHeld && channel.buffer.length <= this.window && channel.unscanned < SCAN_EVERY) {
        channel.found = [];
        channel.redactions = [];
        channel.boundary = 0;
        channel.scanned = null;
        continue;
      }
      // An event that added no text to the channel (a role, a finish reason, usage) changes nothing to scan.
      if (channel.buffer !== channel.scanned) {
        const shift = channel.lookBehind.length;
        channel.found = channel.buffer.length === 0 ? [] : scanText(channel.lookBehind + channel.buffer, "response", this.policy).map((f) => ({ ...f, start: f.start - shift, end: f.end - shift }));
        channel.scanned = channel.buffer;
        channel.unscanned = 0;
      }
      const found = channel.found;
      const blocking = found.find((f) => f.action === "block" && f.end > 0);
      if (blocking) {
        const finding = this.located(channel, blocking);
        this.findings.push(finding);
        this.blocked = finding;
        return { text: "", blocked: finding };
      }
      // Findings that began in text already sent cannot be redacted any more.
      let redactions = found.filter((f) => f.action === "redact" && f.start >= 0);
      if (channel.json) redactions = safeSpans(channel.buffer, channel.lex, redactions);
      channel.redactions = redactions;
      channel.boundary = open ? Math.max(0, channel.buffer.length - this.window) : channel.buffer.length;
      // Latest first, so a span that overlaps one moved across is seen against the new boundary.
      for (let i = redactions.length - 1; i >= 0; i--) {
        const r = redactions[i]!;
        if (r.start < channel.boundary && r.end > channel.boundary) channel.boundary = r.start;
      }
    }

    let excess = total - this.window * MAX_HELD_WINDOWS;
    let text = "";
    const flushedTo = new Map<Channel, number>();
    let count = 0;
    for (const held of this.held) {
      if (held.slots.some((s) => s.end > s.channel.boundary)) {
        if (excess <= 0) break;
        for (const { channel, end } of held.slots) {
          if (end <= channel.boundary) continue;
          excess -= channel.buffer.length - channel.boundary;
          channel.boundary = channel.buffer.length;
        }
      }
      text += this.rewrite(held);
      for (const slot of held.slots) flushedTo.set(slot.channel, slot.end);
      count++;
    }
    this.held.splice(0, count);

    for (const channel of this.channels.values()) {
      const sent = flushedTo.get(channel) ?? 0;
      // Each finding is recorded once: when the text it ends in is sent.
      for (const f of channel.found) if (f.end > 0 && f.end <= sent) this.findings.push(this.located(channel, f));
      if (sent === 0) continue;
      const text = channel.buffer.slice(0, sent);
      channel.lookBehind = (channel.lookBehind + text).slice(-this.window);
      if (channel.json) channel.lex = advance(text, channel.lex);
      channel.sentChars += sent;
      channel.buffer = channel.buffer.slice(sent);
    }
    for (const held of this.held) {
      for (const slot of held.slots) {
        const sent = flushedTo.get(slot.channel) ?? 0;
        slot.start -= sent;
        slot.end -= sent;
      }
    }
    return { text };
  }

  /** A finding with offsets in the whole text of its channel, and the channel as its path. */
  private located(channel: Channel, f: Finding): Finding {
    return { ...f, path: `/${channel.key}`, start: channel.sentChars + f.start, end: channel.sentChars + f.end };
  }

  /** The event as it goes out: untouched bytes unless a redaction touches one of its slots or a snapshot changed. */
  private rewrite(held: Held): string {
    let changed = held.changed;
    for (const slot of held.slots) {
      const touching = slot.channel.redactions.filter((r) => r.start < slot.end && r.end > slot.start);
      if (touching.length === 0) continue;
      const buffer = slot.channel.buffer;
      let text = "";
      let cursor = slot.start;
      // A placeholder goes where its span starts; the rest of the span is dropped from later slots.
      for (const r of touching) {
        if (r.start >= cursor) text += buffer.slice(cursor, r.start) + this.redactor.replacement(r.detector, buffer.slice(r.start, r.end));
        cursor = Math.max(cursor, Math.min(r.end, slot.end));
      }
      slot.set(text + buffer.slice(cursor, slot.end));
      changed = true;
    }
    return changed ? serializeEvent(held.event.event, JSON.stringify(held.json)) : held.event.raw;
  }
}
