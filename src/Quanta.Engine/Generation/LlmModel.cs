using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Quanta.Core.ModelFiles;
using Quanta.Core.ModelFiles.Gguf;
using Quanta.Core.ModelFiles.Llama2c;
using Quanta.Core.Templates;
using Quanta.Core.Threading;
using Quanta.Core.Tokenizers;
using Quanta.Engine.Sampling;
using Quanta.Models;

namespace Quanta.Engine.Generation;

/// <summary>
/// A text-generation model ready to use: weights, tokenizer, chat template and one inference session (KV cache of
/// <see cref="ContextLength"/> tokens) with its worker threads. <see cref="Generate(string, SamplingParameters?, CancellationToken)"/>
/// and <see cref="GenerateStreaming(string, SamplingParameters?, CancellationToken)"/> run one request at a time: concurrent
/// calls are safe and wait their turn. Each request starts from an empty cache. Dispose releases everything; do not
/// dispose while a request runs.
/// </summary>
public sealed class LlmModel : IDisposable
{
    /// <summary>The template used when neither the options nor the model give one: ChatML (llama.cpp's fallback too).</summary>
    public const string DefaultChatTemplate =
        "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    private readonly LoadedModel _model;
    private readonly WorkerPool _pool;
    private readonly InferenceSession _session;
    private readonly IncrementalDetokenizer _detokenizer;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly int? _extraEnd;
    private readonly string? _templateSource;
    private readonly int[] _endTokens;          // ascending: every id IsEndOfGeneration accepts
    private ChatTemplate? _template;
    private JsonVocabulary? _jsonVocabulary;
    private object? _jsonLock;
    private bool _disposed;

    private LlmModel(LoadedModel model, ITokenizer tokenizer, string? templateSource, LlmLoadOptions options)
    {
        _model = model;
        Tokenizer = tokenizer;
        _templateSource = templateSource;
        string full = Path.GetFullPath(model.SourcePath).TrimEnd(Path.DirectorySeparatorChar);
        Name = Directory.Exists(full) ? Path.GetFileName(full) : Path.GetFileNameWithoutExtension(full);
        // llama2.c's run.c ends a sample when BOS comes up again (its stories end that way).
        _extraEnd = model.Kind == ModelSourceKind.Llama2c ? tokenizer.Bos : null;
        int maxPiece = 1;
        var ends = new List<int>();
        for (int id = 0; id < tokenizer.VocabSize; id++)
        {
            maxPiece = Math.Max(maxPiece, tokenizer.TokenToPiece(id, renderSpecial: false).Length);
            if (IsEndOfGeneration(id)) ends.Add(id);
        }
        _endTokens = ends.ToArray();
        _detokenizer = new IncrementalDetokenizer(tokenizer, maxPiece);
        _pool = new WorkerPool(options.Threads);
        try
        {
            _session = model.CreateSession(new SessionOptions { ContextLength = options.ContextLength, KvCacheType = options.KvCacheType, Pool = _pool });
        }
        catch
        {
            _pool.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Loads the model at <paramref name="path"/> (GGUF, llama2.c checkpoint or Hugging Face safetensors), its tokenizer
    /// and chat template, and allocates the session.
    /// </summary>
    /// <exception cref="FileNotFoundException">The model or tokenizer file does not exist.</exception>
    /// <exception cref="ModelFileException">The file is not a model file, or is malformed.</exception>
    /// <exception cref="NotSupportedException">Unsupported architecture or tokenizer type (the message lists the supported ones).</exception>
    /// <exception cref="ArgumentException">A bad option, or a llama2.c checkpoint without a tokenizer.</exception>
    public static LlmModel Load(string path, LlmLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        options ??= new LlmLoadOptions();
        if (options.ContextLength < 0) throw new ArgumentOutOfRangeException(nameof(options), options.ContextLength, "ContextLength must be >= 0");
        if (options.Threads < 0) throw new ArgumentOutOfRangeException(nameof(options), options.Threads, "Threads must be >= 0");
        var progress = options.Progress;
        progress?.Report(new LlmLoadProgress("weights", 0));
        ModelFileInspector.Detect(path); // a file of no known kind fails here with "not a model file" rather than deep in a parser
        LoadedModel model = ModelLoader.Load(path, options.Residency);
        try
        {
            progress?.Report(new LlmLoadProgress("tokenizer", 0.6));
            ITokenizer tokenizer = LoadTokenizer(model, options.TokenizerPath);
            if (tokenizer.VocabSize > model.Config.VocabSize)
                throw new ArgumentException($"the tokenizer has {tokenizer.VocabSize} tokens but the model only {model.Config.VocabSize}: they do not belong together");
            string? template = options.ChatTemplate ?? FindChatTemplate(model);
            progress?.Report(new LlmLoadProgress("kv cache", 0.8));
            var llm = new LlmModel(model, tokenizer, template, options);
            progress?.Report(new LlmLoadProgress("ready", 1));
            return llm;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private static ITokenizer LoadTokenizer(LoadedModel model, string? tokenizerPath)
    {
        if (tokenizerPath is not null) return LoadTokenizerFile(tokenizerPath, model.Config.VocabSize);
        if (model.Gguf is not null) return TokenizerFactory.FromGguf(model.Gguf);
        string dir = Directory.Exists(model.SourcePath) ? model.SourcePath : Path.GetDirectoryName(Path.GetFullPath(model.SourcePath))!;
        if (model.Kind == ModelSourceKind.Safetensors)
        {
            string json = Path.Combine(dir, "tokenizer.json");
            if (File.Exists(json)) return TokenizerFactory.FromHuggingFaceFile(json);
            throw new ArgumentException($"no tokenizer.json next to {model.SourcePath}; give the tokenizer file explicitly (--tokenizer)");
        }
        foreach (string name in (string[])["tokenizer.bin", $"tok{model.Config.VocabSize}.bin"])
        {
            string candidate = Path.Combine(dir, name);
            if (File.Exists(candidate)) return LoadTokenizerFile(candidate, model.Config.VocabSize);
        }
        throw new ArgumentException(
            $"{Path.GetFileName(model.SourcePath)} is a llama2.c checkpoint, which holds no tokenizer; give its tokenizer file with --tokenizer (e.g. tok{model.Config.VocabSize}.bin)");
    }

    private static ITokenizer LoadTokenizerFile(string path, int vocabSize)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"tokenizer file not found: {path}", path);
        if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase)) return TokenizerFactory.FromHuggingFaceFile(path);
        Span<byte> magic = stackalloc byte[4];
        using (var fs = File.OpenRead(path))
        {
            if (fs.ReadAtLeast(magic, 4, throwOnEndOfStream: false) == 4 && magic.SequenceEqual("GGUF"u8))
            {
                fs.Close();
                using var gguf = GgufFile.Open(path);
                return TokenizerFactory.FromGguf(gguf);
            }
        }
        return TokenizerFactory.FromLlama2c(Llama2cTokenizer.Open(path, vocabSize), path);
    }

    private static string? FindChatTemplate(LoadedModel model)
    {
        if (model.Gguf is not null)
            return model.Gguf.TryGetString("tokenizer.chat_template", out string? t) ? t : null;
        if (model.Kind != ModelSourceKind.Safetensors) return null;
        string dir = Directory.Exists(model.SourcePath) ? model.SourcePath : Path.GetDirectoryName(Path.GetFullPath(model.SourcePath))!;
        string config = Path.Combine(dir, "tokenizer_config.json");
        if (!File.Exists(config)) return null;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(config));
            if (!doc.RootElement.TryGetProperty("chat_template", out JsonElement ct)) return null;
            if (ct.ValueKind == JsonValueKind.String) return ct.GetString();
            if (ct.ValueKind == JsonValueKind.Array)
                foreach (JsonElement e in ct.EnumerateArray())
                    if (e.TryGetProperty("name", out var n) && n.GetString() == "default" && e.TryGetProperty("template", out var tt)) return tt.GetString();
        }
        catch (JsonException)
        {
        }
        return null;
    }

    /// <summary>Model id: the file name without extension (the folder name for a Hugging Face folder).</summary>
    public string Name { get; }

    /// <summary>The loaded weights, configuration and file metadata.</summary>
    public LoadedModel Model => _model;

    /// <summary>The tokenizer.</summary>
    public ITokenizer Tokenizer { get; }

    /// <summary>Tokens the context (KV cache) holds: prompt plus generated.</summary>
    public int ContextLength => _session.Capacity;

    /// <summary>True when the model (or the load options) supplied a chat template; otherwise <see cref="DefaultChatTemplate"/> is used.</summary>
    public bool HasChatTemplate => _templateSource is not null;

    /// <summary>The chat template in use (parsed on first use). Throws <see cref="TemplateException"/> if it does not parse.</summary>
    public ChatTemplate ChatTemplate => _template ??= ChatTemplate.Parse(_templateSource ?? DefaultChatTemplate);

    /// <summary>True for tokens that end generation: the tokenizer's EOS/EOT set, plus BOS for llama2.c checkpoints.</summary>
    public bool IsEndOfGeneration(int token) => Tokenizer.IsEndOfGeneration(token) || token == _extraEnd;

    /// <summary>Every token that ends generation (<see cref="IsEndOfGeneration"/>), ascending; empty when the model has none.</summary>
    public IReadOnlyList<int> EndOfGenerationTokens => _endTokens;

    /// <summary>
    /// The vocabulary prepared for JSON-constrained decoding (<see cref="SamplingParameters.JsonObject"/>), built on first
    /// use and then shared by every request.
    /// </summary>
    /// <exception cref="NotSupportedException">The model has no end-of-generation token, so an output cannot be ended
    /// after its JSON object.</exception>
    public JsonVocabulary JsonVocabulary
    {
        get
        {
            if (_endTokens.Length == 0)
                throw new NotSupportedException(
                    $"JSON mode (response format json_object) needs a model with an end-of-generation token to end the output after the object; {Name}'s tokenizer has none");
            return LazyInitializer.EnsureInitialized(ref _jsonVocabulary, ref _jsonLock, () => JsonVocabulary.FromTokenizer(Tokenizer, _endTokens));
        }
    }

    /// <summary>
    /// Prompt tokens of raw text: the tokenizer's BOS (when it adds one) and the text, special-token text parsed as
    /// special tokens (as llama.cpp does for prompts).
    /// </summary>
    public int[] Tokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Tokenizer.Encode(text, addSpecial: true, parseSpecial: true);
    }

    /// <summary>Renders <paramref name="messages"/> with the chat template (bos_token/eos_token set from the tokenizer).</summary>
    public string ApplyChatTemplate(IEnumerable<Quanta.Core.Templates.ChatMessage> messages, bool addGenerationPrompt = true)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var context = new ChatTemplateContext { AddGenerationPrompt = addGenerationPrompt };
        if (Tokenizer.Bos is int bos) context.BosToken = Tokenizer.TokenText(bos);
        if (Tokenizer.Eos is int eos) context.EosToken = Tokenizer.TokenText(eos);
        foreach (var m in messages) context.Messages.Add(m);
        return ChatTemplate.Render(context);
    }

    /// <summary>
    /// Tokens of a rendered chat prompt: special-token text becomes special tokens and BOS is prepended when the
    /// tokenizer adds one and the template did not already start with it (no double BOS).
    /// </summary>
    public int[] TokenizeChatPrompt(string rendered)
    {
        ArgumentNullException.ThrowIfNull(rendered);
        var tokens = new List<int>(rendered.Length / 3 + 2);
        Tokenizer.Encode(rendered, tokens, addSpecial: false, parseSpecial: true);
        if (Tokenizer.AddBos && Tokenizer.Bos is int bos && (tokens.Count == 0 || tokens[0] != bos)) tokens.Insert(0, bos);
        return tokens.ToArray();
    }

    /// <summary>Generates a completion of <paramref name="prompt"/> (tokenized by <see cref="Tokenize"/>).</summary>
    /// <exception cref="ContextLengthExceededException">The prompt does not fit the context.</exception>
    public GenerationResult Generate(string prompt, SamplingParameters? parameters = null, CancellationToken cancellationToken = default) =>
        Generate(Tokenize(prompt), parameters, cancellationToken);

    /// <summary>
    /// Generates from prompt tokens until an end-of-generation token, a stop string, <see cref="SamplingParameters.MaxTokens"/>,
    /// the end of the context or cancellation (which returns the partial result with <see cref="GenerationFinishReason.Cancelled"/>).
    /// With <see cref="SamplingParameters.JsonObject"/> the output is constrained to one JSON object
    /// (<see cref="JsonLogitsProcessor"/>, as the server's response_format json_object): it parses as JSON unless a
    /// stop string, cancellation or a token limit too small to close the object cuts it.
    /// </summary>
    /// <exception cref="ContextLengthExceededException">The prompt does not fit the context.</exception>
    /// <exception cref="NotSupportedException">JSON mode on a model without an end-of-generation token.</exception>
    public GenerationResult Generate(IReadOnlyList<int> promptTokens, SamplingParameters? parameters = null, CancellationToken cancellationToken = default)
    {
        int[] prompt = CheckPrompt(promptTokens);
        parameters ??= new SamplingParameters();
        parameters.Validate(_session.VocabSize);
        JsonVocabulary? json = parameters.JsonObject ? JsonVocabulary : null;
        try
        {
            _gate.Wait(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return new GenerationResult("", [], GenerationFinishReason.Cancelled, new GenerationUsage(prompt.Length, 0, default, default, 0));
        }
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var run = new GenerationRun(this, _session, _detokenizer, prompt, parameters, json, cancellationToken);
            var text = new StringBuilder();
            GenerationChunk last = default;
            while (run.Step(out GenerationChunk chunk))
            {
                text.Append(chunk.Text);
                last = chunk;
            }
            return new GenerationResult(text.ToString(), run.Tokens.ToArray(), last.FinishReason!.Value, last.Usage!, last.StopSequence);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Streams a completion of <paramref name="prompt"/> (see <see cref="GenerateStreaming(IReadOnlyList{int}, SamplingParameters?, CancellationToken)"/>).</summary>
    /// <exception cref="ContextLengthExceededException">The prompt does not fit the context (thrown on the first MoveNextAsync).</exception>
    public IAsyncEnumerable<GenerationChunk> GenerateStreaming(string prompt, SamplingParameters? parameters = null, CancellationToken cancellationToken = default) =>
        GenerateStreaming(Tokenize(prompt), parameters, cancellationToken);

    /// <summary>
    /// Streams generation from prompt tokens, one <see cref="GenerationChunk"/> per sampled token; the last chunk carries
    /// the finish reason and usage. Cancellation (the token given here or through WithCancellation) ends the stream with a
    /// <see cref="GenerationFinishReason.Cancelled"/> chunk; abandoning the enumeration frees the session at once.
    /// </summary>
    public async IAsyncEnumerable<GenerationChunk> GenerateStreaming(IReadOnlyList<int> promptTokens, SamplingParameters? parameters = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        int[] prompt = CheckPrompt(promptTokens);
        parameters ??= new SamplingParameters();
        parameters.Validate(_session.VocabSize);
        JsonVocabulary? json = parameters.JsonObject ? JsonVocabulary : null;
        bool entered = false;
        try
        {
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            entered = true;
        }
        catch (OperationCanceledException)
        {
        }
        if (!entered)
        {
            yield return new GenerationChunk("", -1, GenerationFinishReason.Cancelled, new GenerationUsage(prompt.Length, 0, default, default, 0));
            yield break;
        }
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var run = new GenerationRun(this, _session, _detokenizer, prompt, parameters, json, cancellationToken);
            while (run.Step(out GenerationChunk chunk)) yield return chunk;
        }
        finally
        {
            _gate.Release();
        }
    }

    private int[] CheckPrompt(IReadOnlyList<int> promptTokens)
    {
        ArgumentNullException.ThrowIfNull(promptTokens);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (promptTokens.Count == 0)
            throw new ArgumentException("the prompt has no tokens (an empty prompt needs a tokenizer that adds BOS)", nameof(promptTokens));
        int[] prompt = promptTokens.ToArray();
        foreach (int t in prompt)
            if ((uint)t >= (uint)_session.VocabSize) throw new ArgumentOutOfRangeException(nameof(promptTokens), t, $"token id outside 0..{_session.VocabSize - 1}");
        if (prompt.Length > _session.Capacity) throw new ContextLengthExceededException(prompt.Length, _session.Capacity);
        return prompt;
    }

    /// <summary>Releases the session, worker threads, weights and file mappings.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _session.Dispose();
        _pool.Dispose();
        _model.Dispose();
        _gate.Dispose();
    }
}
