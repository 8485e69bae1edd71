using System.Text;

namespace Quanta.Engine.Sampling;

/// <summary>What <see cref="StopStringMatcher.Append"/> releases.</summary>
/// <param name="Text">Text that is now safe to emit (never contains stop text; may be empty).</param>
/// <param name="Stopped">True when a stop string was completed: generation must end; the stop string and anything
/// after it are not emitted.</param>
/// <param name="StopIndex">Index into the stop list of the string that matched, or −1.</param>
public readonly record struct StopStringResult(string Text, bool Stopped, int StopIndex);

/// <summary>
/// Incremental stop-string detection on the decoded text stream of one sequence, across token boundaries.
/// <para>
/// Each <see cref="Append"/> takes the newly decoded text. Text that could still be the beginning of a stop string
/// (a suffix of what was seen that is a prefix of some stop) is held back; it is released as soon as it cannot be,
/// or by <see cref="Flush"/> at the end of generation. When a stop string is complete, the text before it is
/// released, <see cref="StopStringResult.Stopped"/> is true and the stop text is dropped (as the OpenAI API does).
/// Generation stops at the first <see cref="Append"/> that completes some stop string; if that chunk completes
/// several, the one that starts earliest wins (then the longest), as llama.cpp's server does. A stop that is still
/// incomplete at that point does not delay the stop. After a stop, further input is ignored.
/// </para>
/// <para>
/// Matching is ordinal on UTF-16 code units (no normalization or case folding). Input is decoded text: turning token
/// bytes into characters (including UTF-8 sequences split across tokens) is the detokenizer's job. A trailing lone
/// high surrogate is held back so an emitted chunk never ends in half a surrogate pair. Empty stop strings are ignored.
/// </para>
/// </summary>
public sealed class StopStringMatcher
{
    private readonly string[] _stops;
    private readonly StringBuilder _pending = new();
    private bool _stopped;

    /// <summary>Creates a matcher for <paramref name="stops"/> (may be empty: then text passes straight through).</summary>
    public StopStringMatcher(IEnumerable<string> stops)
    {
        ArgumentNullException.ThrowIfNull(stops);
        _stops = stops.Select(s => s ?? throw new ArgumentException("Stop strings must not be null.", nameof(stops))).ToArray();
    }

    /// <summary>True once a stop string has been matched.</summary>
    public bool Stopped => _stopped;

    /// <summary>Text currently held back (a possible stop-string prefix).</summary>
    public int PendingLength => _pending.Length;

    /// <summary>Adds newly decoded text; returns what can be emitted now and whether a stop string completed.</summary>
    public StopStringResult Append(ReadOnlySpan<char> text)
    {
        if (_stopped) return new StopStringResult(string.Empty, true, -1);
        int before = _pending.Length;
        _pending.Append(text);
        string buffer = _pending.ToString();

        // A stop can only complete inside the new text, so it must end after `before`.
        int bestStart = int.MaxValue, bestIndex = -1;
        for (int s = 0; s < _stops.Length; s++)
        {
            string stop = _stops[s];
            if (stop.Length == 0) continue;
            int from = Math.Max(0, before - stop.Length + 1);
            int at = buffer.IndexOf(stop, from, StringComparison.Ordinal);
            if (at < 0) continue;
            if (at < bestStart || (at == bestStart && stop.Length > _stops[bestIndex].Length))
            {
                bestStart = at;
                bestIndex = s;
            }
        }
        if (bestIndex >= 0)
        {
            _stopped = true;
            _pending.Clear();
            return new StopStringResult(buffer[..bestStart], true, bestIndex);
        }

        int hold = HeldSuffixLength(buffer);
        int emit = buffer.Length - hold;
        _pending.Clear();
        _pending.Append(buffer, emit, hold);
        return new StopStringResult(buffer[..emit], false, -1);
    }

    /// <summary>End of generation without a stop: releases whatever was held back.</summary>
    public string Flush()
    {
        string rest = _stopped ? string.Empty : _pending.ToString();
        _pending.Clear();
        return rest;
    }

    /// <summary>Longest suffix of <paramref name="buffer"/> that is a proper prefix of some stop string (or a lone high surrogate).</summary>
    private int HeldSuffixLength(string buffer)
    {
        int hold = 0;
        foreach (string stop in _stops)
        {
            for (int len = Math.Min(stop.Length - 1, buffer.Length); len > hold; len--)
            {
                if (buffer.AsSpan(buffer.Length - len).SequenceEqual(stop.AsSpan(0, len)))
                {
                    hold = len;
                    break;
                }
            }
        }
        if (hold == 0 && buffer.Length > 0 && char.IsHighSurrogate(buffer[^1])) hold = 1;
        return hold;
    }
}
