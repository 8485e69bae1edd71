using System.Diagnostics;
using Quanta.Engine.KvCache;

namespace Quanta.Engine.Execution;

/// <summary>What <see cref="ExecutorWarmUp.Run"/> did.</summary>
/// <param name="Steps">Executor steps run.</param>
/// <param name="Elapsed">Wall time of the whole warm-up.</param>
/// <param name="SlowestStep">The longest single step (the first call at a new shape pays the JIT).</param>
/// <param name="LargestBatch">Most sequences of a decode step it reached (fewer than asked when the KV pool ran out).</param>
/// <param name="FirstRound">Executor time of the first round's decode steps (batch sizes 1 … LargestBatch, code compiled on the way).</param>
/// <param name="LastRound">Executor time of the last round's decode steps (the same shapes, compiled code): FirstRound − LastRound
/// is about what the first requests would have paid at these shapes without the warm-up.</param>
public readonly record struct WarmUpResult(int Steps, TimeSpan Elapsed, TimeSpan SlowestStep, int LargestBatch, TimeSpan FirstRound = default, TimeSpan LastRound = default);

/// <summary>
/// Runs an executor once over every step shape a serving scheduler can produce before any request is served, so the
/// first real step at each shape does not pay for compiling code paths that depend on the batch (the matrix kernels
/// specialise their tiles by token count: a one-token GEMV, 2-7-token tiles, 8+-token pre-unpacked tiles, each by
/// the token count modulo 4; the output head and attention likewise). In .NET each such path is compiled on its
/// first call (first at tier 0, then re-optimised after about 30 calls), which made the first step at each new batch
/// size 70-170 ms slower than the steady state in the serving benchmark.
/// <para>What runs (bounded): <paramref name="rounds"/> passes of one decode step at each batch size 1 … maxSequences
/// (each sequence one token at position <see cref="DecodePosition"/>, so attention covers more than one key group),
/// then one prefill chunk of min(maxTokens, <see cref="PrefillTokens"/>) tokens of one sequence (the multi-row
/// attention blocks and the large-batch tiles). That is rounds · maxSequences + 1 steps, about as long as generating
/// rounds · maxSequences tokens per sequence at full batch. The sequences are temporary: their K/V (garbage token ids
/// 0, 1, …) are never committed, so nothing enters the prefix cache, and their blocks go back to the pool. When the
/// pool has too few free blocks for a batch size, the warm-up stops there (it never fails the engine's start).
/// Between rounds it sleeps <see cref="TieringDelay"/> (the runtime only starts counting calls towards re-optimising a
/// method once no new method has been compiled for 100 ms), and after the last round it waits until the background
/// JIT has been idle for that long, at most <see cref="SettleLimit"/>: the steps of the first requests then run the
/// optimised code. Neither wait happens when the first round compiled nothing (a second engine in the same process).
/// Bound: rounds · maxSequences + 1 steps plus at most 2.15 s of waiting.</para>
/// </summary>
public static class ExecutorWarmUp
{
    /// <summary>Position of the warm-up decode tokens (past the first 16-key group of the attention kernel).</summary>
    public const int DecodePosition = 20;

    /// <summary>Pause between rounds and the quiet period <see cref="Run"/> waits for at the end (the runtime's tiering
    /// delay is 100 ms).</summary>
    public static readonly TimeSpan TieringDelay = TimeSpan.FromMilliseconds(150);

    /// <summary>Longest wait for the background JIT to settle after the rounds.</summary>
    public static readonly TimeSpan SettleLimit = TimeSpan.FromSeconds(2);

    /// <summary>Most tokens of the warm-up prefill chunk.</summary>
    public const int PrefillTokens = 64;

    /// <summary>
    /// Warms <paramref name="executor"/> up over temporary sequences of <paramref name="cache"/> (see the type's remarks).
    /// Call it before the engine loop starts (the executor and cache are single-threaded).
    /// </summary>
    public static WarmUpResult Run(IExecutor executor, PagedKvCache cache, int maxSequences, int maxTokens, int maxPositions, int rounds = 2)
    {
        ArgumentNullException.ThrowIfNull(executor);
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxSequences);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxTokens);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxPositions);
        ArgumentOutOfRangeException.ThrowIfNegative(rounds);
        maxSequences = Math.Min(Math.Min(maxSequences, executor.MaxBatchSequences), Math.Min(maxTokens, executor.MaxBatchTokens));
        maxTokens = Math.Min(maxTokens, executor.MaxBatchTokens);
        long start = Stopwatch.GetTimestamp();
        TimeSpan slowest = TimeSpan.Zero;
        var roundTime = new TimeSpan[Math.Max(1, rounds)];
        int steps = 0, largest = 0;
        int position = Math.Min(DecodePosition, Math.Min(maxPositions, cache.MaxSequenceLength) - 1);
        int vocab = executor.VocabSize;
        var tokens = new int[Math.Max(maxSequences, Math.Min(maxTokens, PrefillTokens))];
        for (int i = 0; i < tokens.Length; i++) tokens[i] = i % vocab;
        var seqs = new List<SequenceKv>(maxSequences);
        var work = new List<SequenceWork>(maxSequences);
        long jitAtStart = System.Runtime.JitInfo.GetCompiledMethodCount();
        bool compiled = false;
        try
        {
            for (int round = 0; round < rounds; round++)
            {
                // the runtime counts calls towards re-optimisation only once no new method has been compiled for
                // TieringDelay: let that pass, so the next round's calls promote the hot paths (nothing to wait for
                // when the first round compiled nothing: an earlier engine in this process warmed the same code)
                if (round == 1)
                {
                    compiled = System.Runtime.JitInfo.GetCompiledMethodCount() != jitAtStart;
                    if (compiled) Thread.Sleep(TieringDelay);
                }
                for (int b = 1; b <= maxSequences; b++)
                {
                    while (seqs.Count < b)
                    {
                        SequenceKv s = cache.CreateSequence([], usePrefixCache: false);
                        seqs.Add(s);
                        if (!s.TryReserve(position + 1)) goto Prefill;
                    }
                    work.Clear();
                    for (int i = 0; i < b; i++)
                        work.Add(new SequenceWork(-1 - i, tokens.AsMemory(i, 1), position, seqs[i], NeedsLogits: true));
                    long t0 = Stopwatch.GetTimestamp();
                    slowest = Step(executor, work, slowest);
                    roundTime[round] += Stopwatch.GetElapsedTime(t0);
                    steps++;
                    largest = Math.Max(largest, b);
                }
            }
        Prefill:
            foreach (SequenceKv s in seqs) s.Dispose();
            seqs.Clear();
            int chunk = Math.Min(Math.Min(maxTokens, PrefillTokens), Math.Min(maxPositions, cache.MaxSequenceLength));
            if (rounds > 0 && chunk > 1)
            {
                SequenceKv s = cache.CreateSequence([], usePrefixCache: false);
                seqs.Add(s);
                if (s.TryReserve(chunk))
                {
                    work.Clear();
                    work.Add(new SequenceWork(-1, tokens.AsMemory(0, chunk), 0, s, NeedsLogits: true));
                    slowest = Step(executor, work, slowest);
                    steps++;
                }
            }
        }
        finally
        {
            foreach (SequenceKv s in seqs) s.Dispose();
        }
        if (compiled) Settle();
        return new WarmUpResult(steps, Stopwatch.GetElapsedTime(start), slowest, largest, roundTime[0], roundTime[^1]);
    }

    /// <summary>Waits (at most <see cref="SettleLimit"/>) until the background JIT has compiled nothing new for
    /// <see cref="TieringDelay"/>: the re-optimised versions of the hot paths are then installed. Also for benchmarks
    /// that warm up through a whole serving engine before a measured round.</summary>
    public static void Settle()
    {
        long until = Stopwatch.GetTimestamp() + (long)(SettleLimit.TotalSeconds * Stopwatch.Frequency);
        long count = System.Runtime.JitInfo.GetCompiledMethodCount();
        while (Stopwatch.GetTimestamp() < until)
        {
            Thread.Sleep(TieringDelay);
            long now = System.Runtime.JitInfo.GetCompiledMethodCount();
            if (now == count) return;
            count = now;
        }
    }

    private static TimeSpan Step(IExecutor executor, List<SequenceWork> work, TimeSpan slowest)
    {
        long t0 = Stopwatch.GetTimestamp();
        executor.Execute(new ExecutionBatch(work));
        TimeSpan t = Stopwatch.GetElapsedTime(t0);
        return t > slowest ? t : slowest;
    }
}
