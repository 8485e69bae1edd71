using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Quanta.Core.ModelFiles.Gguf;
using Quanta.Core.Tokenizers;
using Quanta.Engine.Generation;
using Quanta.Engine.Sampling;
using Quanta.Engine.Serving;
using Quanta.Engine.Tests.Generation;

namespace Quanta.Engine.Tests.Sampling;

/// <summary>
/// JSON-constrained decoding over real vocabularies (llama.cpp's test vocabularies) and a random-weight model:
/// whatever the logits, the output is one JSON object System.Text.Json parses, closed within max_tokens.
/// </summary>
public sealed class JsonLogitsProcessorTests
{
    private static readonly Dictionary<string, (VocabTokenizer Tok, JsonVocabulary Json)> Vocabularies = [];

    private static (VocabTokenizer Tok, JsonVocabulary Json) Vocab(string name)
    {
        lock (Vocabularies)
        {
            if (Vocabularies.TryGetValue(name, out var v)) return v;
            using var gguf = GgufFile.Open(TestData.Get($"testdata/llama.cpp-vocab/ggml-vocab-{name}.gguf"));
            VocabTokenizer tok = TokenizerFactory.FromGguf(gguf);
            var ends = Enumerable.Range(0, tok.VocabSize).Where(tok.IsEndOfGeneration).ToList();
            if (ends.Count == 0 && tok.Eos is int eos) ends.Add(eos);
            v = (tok, JsonVocabulary.FromTokenizer(tok, ends));
            Vocabularies[name] = v;
            return v;
        }
    }

    private static void AssertOneObject(string text, string context)
    {
        try
        {
            using var doc = JsonDocument.Parse(text);
            Assert.True(doc.RootElement.ValueKind == JsonValueKind.Object, $"not an object: {text} ({context})");
        }
        catch (JsonException e)
        {
            Assert.Fail($"invalid JSON ({e.Message}): {text} ({context})");
        }
    }

    // random logits each step (a model that knows nothing), sampled or greedy
    private static (string Text, bool Ended, int Tokens) Run(JsonVocabulary json, int vocab, int seed, int maxTokens, float temperature)
    {
        var rng = new Random(seed);
        var logits = new float[vocab];
        var processor = new JsonLogitsProcessor(json, maxTokens);
        var sampler = new Sampler(vocab, new SamplingParameters { Temperature = temperature, Seed = (ulong)seed }, processor);
        var bytes = new List<byte>();
        for (int i = 0; i < maxTokens; i++)
        {
            for (int j = 0; j < vocab; j++) logits[j] = rng.NextSingle() * 12f;
            int t = sampler.Sample(logits, out _);
            if (json.IsEnd(t)) return (Encoding.UTF8.GetString([.. bytes]), true, i + 1);
            bytes.AddRange(json.Piece(t).ToArray());
        }
        return (Encoding.UTF8.GetString([.. bytes]), false, maxTokens);
    }

    [Theory]
    [InlineData("llama-spm", 40)]      // SentencePiece, byte fallback, 32k
    [InlineData("gpt-2", 40)]          // byte-level BPE, 50k
    [InlineData("deepseek-llm", 12)]   // byte-level BPE, 100k
    public void Random_logits_give_one_object_within_max_tokens(string vocabulary, int runs)
    {
        var (tok, json) = Vocab(vocabulary);
        int seed0 = Random.Shared.Next();
        for (int r = 0; r < runs; r++)
        {
            int seed = seed0 + r;
            int maxTokens = 2 + new Random(seed).Next(60);
            float temperature = r % 4 == 0 ? 0f : 1f;
            var (text, ended, tokens) = Run(json, tok.VocabSize, seed, maxTokens, temperature);
            AssertOneObject(text, $"{vocabulary} seed {seed}, max_tokens {maxTokens}, T {temperature}, ended {ended} after {tokens}");
        }
    }

    [Fact]
    public void End_token_only_after_the_object_closes_and_nothing_else_then()
    {
        var (tok, json) = Vocab("llama-spm");
        int eos = json.EndTokens[0];
        var p = new JsonLogitsProcessor(json, 0);
        var logits = new float[tok.VocabSize];
        int[] ids = tok.Encode("{\"a\": [1, 2]", addSpecial: false);
        foreach (int id in ids)
        {
            logits.AsSpan().Fill(1f);
            p.Process(logits);
            Assert.True(float.IsNegativeInfinity(logits[eos]), "end token allowed inside the object");
            Assert.True(logits[id] == 1f, $"token {id} '{Encoding.UTF8.GetString(json.Piece(id))}' masked though valid");
            p.Accept(id);
        }
        int close = tok.Encode("}", addSpecial: false).Last();
        logits.AsSpan().Fill(1f);
        p.Process(logits);
        Assert.True(logits[close] == 1f);
        p.Accept(close);
        Assert.True(p.State.IsDone);
        logits.AsSpan().Fill(1f);
        p.Process(logits);
        Assert.Equal(1, logits.Count(float.IsFinite));
        Assert.Equal(1f, logits[eos]);
    }

    [Fact]
    public void Every_unmasked_token_is_valid_and_every_masked_one_invalid()
    {
        var (tok, json) = Vocab("gpt-2");
        var p = new JsonLogitsProcessor(json, 0);
        var logits = new float[tok.VocabSize];
        foreach (int id in tok.Encode("{\"key\": \"va\\u00e9", addSpecial: false)) p.Accept(id);
        logits.AsSpan().Fill(0f);
        p.Process(logits);
        for (int t = 0; t < tok.VocabSize; t++)
        {
            JsonGrammarState s = p.State;
            bool valid = json.Piece(t).Length > 0 && !json.IsEnd(t) && s.Feed(json.Piece(t));
            Assert.True(valid == float.IsFinite(logits[t]), $"token {t} '{Encoding.UTF8.GetString(json.Piece(t))}': valid {valid}, logit {logits[t]}");
        }
    }

    [Fact]
    public void Banned_allowed_tokens_fall_back_to_a_uniform_choice_among_them()
    {
        var (tok, json) = Vocab("llama-spm");
        var p = new JsonLogitsProcessor(json, 0);
        var logits = new float[tok.VocabSize];
        logits.AsSpan().Fill(float.NegativeInfinity);   // every token banned (e.g. by logit_bias)
        p.Process(logits);
        Assert.True(logits.Count(float.IsFinite) > 0);
        foreach (float x in logits) Assert.True(float.IsNegativeInfinity(x) || x == 0f);
    }

    [Fact]
    public void Warm_decoding_allocates_nothing_per_token()
    {
        var (tok, json) = Vocab("llama-spm");
        int seed = Random.Shared.Next();
        Run(json, tok.VocabSize, seed, 48, 1f);   // fills the cache for this token path
        var rng = new Random(seed);
        var logits = new float[tok.VocabSize];
        var processor = new JsonLogitsProcessor(json, 48);
        var sampler = new Sampler(tok.VocabSize, new SamplingParameters { Temperature = 1f, Seed = (ulong)seed }, processor);
        var values = new float[48][];
        for (int i = 0; i < 48; i++)
        {
            values[i] = new float[tok.VocabSize];
            for (int j = 0; j < tok.VocabSize; j++) values[i][j] = rng.NextSingle() * 12f;
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 48; i++)
        {
            int t = sampler.Sample(values[i], out _);
            if (json.IsEnd(t)) break;
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"{allocated} bytes allocated on a warm path (seed {seed})");
        _ = logits;
    }

    [Fact]
    public async Task Random_weight_model_answers_json_objects_for_many_seeds()
    {
        string dir = Path.Combine(Path.GetTempPath(), "quanta-json-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string path = TinyChatGguf.Write(Path.Combine(dir, "tiny-chat.gguf"));
            using ServingEngine engine = ServingEngine.Load("tiny", path, new ServingOptions { Threads = 1 });
            int[] prompt = engine.Model.Tokenize("user: give me JSON\nassistant:");
            int seed0 = Random.Shared.Next();
            var calls = new List<(int Seed, int Max, float T, ServingCall Call)>();
            for (int i = 0; i < 24; i++)
            {
                int seed = seed0 + i;
                int max = 4 + new Random(seed).Next(60);
                float t = i % 3 == 0 ? 0f : 1.5f;
                var sampling = new SamplingParameters { Temperature = t, Seed = (ulong)seed, MaxTokens = max, JsonObject = true };
                calls.Add((seed, max, t, engine.Submit(new ServingRequest { Prompt = prompt, Sampling = sampling })));
            }
            int nonTrivial = 0;
            foreach (var (seed, max, t, call) in calls)
            {
                var sb = new StringBuilder();
                ServingFinishReason? finish = null;
                await foreach (ServingDelta d in call.ReadAllAsync())
                {
                    sb.Append(d.Text);
                    finish ??= d.Finish;
                }
                ServingUsage usage = await call.Usage.WaitAsync(TimeSpan.FromSeconds(60));
                Assert.True(usage.CompletionTokens <= max);
                AssertOneObject(sb.ToString(), $"seed {seed}, max_tokens {max}, T {t}, finish {finish}");
                if (sb.Length > 2) nonTrivial++;
                Console.WriteLine($"seed {seed} max {max} T {t} {finish}: {JsonSerializer.Serialize(sb.ToString())}");
            }
            Assert.True(nonTrivial > calls.Count / 2, $"only {nonTrivial} of {calls.Count} outputs are more than {{}} (seeds from {seed0})");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Mask_cost_is_small_on_a_100k_vocabulary()
    {
        // not a timing assertion (the machine is shared): reports the walk size and checks the cache is used
        var (tok, json) = Vocab("deepseek-llm");
        var walker = json.CreateWalker();
        var s = JsonGrammarState.Start(objectOnly: true);
        Assert.True(s.Feed("{\"a\":[[[{\"cost\": [\"x"u8));   // a state no other test visits
        for (int depth = 0; depth < 20; depth++)   // warm up the code on states no other test visits (depth 9..28)
        {
            var w = JsonGrammarState.Start(objectOnly: true);
            Assert.True(w.Feed("{\"w\":"u8) && w.Feed(Enumerable.Repeat((byte)'[', 8 + depth).ToArray()) && w.Feed("\"x"u8));
            json.Allowed(w, walker);
        }
        var sw = Stopwatch.StartNew();
        JsonAllowedSet first = json.Allowed(s, walker);
        double coldMs = sw.Elapsed.TotalMilliseconds;
        sw.Restart();
        JsonAllowedSet second = default!;
        for (int i = 0; i < 1000; i++) second = json.Allowed(s, walker);
        double warmMs = sw.Elapsed.TotalMilliseconds / 1000;
        Assert.Same(first, second);
        Assert.True(first.Count > tok.VocabSize / 2, $"only {first.Count} of {tok.VocabSize} tokens allowed inside a string");
        Console.WriteLine($"deepseek-llm ({tok.VocabSize} tokens, {json.NodeCount} trie nodes): in-string walk {coldMs:F2} ms cold, {warmMs:F4} ms cached");
    }
}
