using Quanta.Engine.Execution;
using Quanta.Engine.KvCache;

namespace Quanta.Engine.Tests.Scheduling;

/// <summary>
/// Deterministic stand-in for a model: the logits of a position are a pseudo-random function of the whole token
/// history up to it (committed tokens in the sequence's KV view plus this step's tokens), so a sequence whose history
/// is fed wrongly (e.g. after a preemption) gets different tokens. Also checks the executor contract's preconditions.
/// </summary>
internal sealed class FakeExecutor(int vocab = 50, int maxTokens = 4096, int maxSequences = 1024) : IExecutor
{
    private float[] _logits = new float[16 * vocab];

    public int VocabSize => vocab;
    public int MaxBatchTokens => maxTokens;
    public int MaxBatchSequences => maxSequences;
    public List<ExecutionBatch> Batches { get; } = [];
    public bool Record { get; set; }

    public ExecutionResult Execute(ExecutionBatch batch)
    {
        if (Record) Batches.Add(batch);
        int n = batch.Sequences.Count;
        if (_logits.Length < n * vocab) _logits = new float[n * vocab];
        var rows = new int[n];
        int r = 0;
        for (int i = 0; i < n; i++)
        {
            SequenceWork w = batch.Sequences[i];
            var kv = (SequenceKv)w.Kv;
            Assert.Equal(w.StartPosition, kv.Length);   // history committed up to the start
            Assert.True(kv.BlockCount * kv.BlockSize >= w.StartPosition + w.Tokens.Length, "blocks not reserved");
            ulong h = 1469598103934665603UL;
            foreach (int t in kv.Tokens) h = (h ^ (uint)t) * 1099511628211UL;
            foreach (int t in w.Tokens.Span) h = (h ^ (uint)t) * 1099511628211UL;
            if (!w.NeedsLogits) { rows[i] = -1; continue; }
            rows[i] = r;
            for (int j = 0; j < vocab; j++)
            {
                ulong x = h + (ulong)j * 0x9E3779B97F4A7C15UL;
                x = (x ^ (x >> 31)) * 0xbf58476d1ce4e5b9UL;
                _logits[r * vocab + j] = (x >> 40) / (float)(1 << 24);
            }
            r++;
        }
        return new ExecutionResult(_logits, rows, vocab, TimeSpan.FromMilliseconds(1));
    }
}

/// <summary>A clock the test moves by hand.</summary>
internal sealed class ManualTime : TimeProvider
{
    public DateTimeOffset Now { get; set; } = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
    public override DateTimeOffset GetUtcNow() => Now;
}
