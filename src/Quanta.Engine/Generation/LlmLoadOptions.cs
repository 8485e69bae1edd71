using Quanta.Core.ModelFiles;
using Quanta.Models;
using Quanta.Models.KvCache;

namespace Quanta.Engine.Generation;

/// <summary>One step of <see cref="LlmModel.Load"/>, reported through <see cref="LlmLoadOptions.Progress"/>.</summary>
/// <param name="Stage">What is being done ("weights", "tokenizer", "kv cache", "ready").</param>
/// <param name="Fraction">Overall progress in [0, 1].</param>
public readonly record struct LlmLoadProgress(string Stage, double Fraction);

/// <summary>Options of <see cref="LlmModel.Load"/>. Every property has a usable default.</summary>
public sealed record LlmLoadOptions
{
    /// <summary>
    /// Tokenizer file: a llama2.c tokenizer .bin (e.g. tok512.bin; llama2.c checkpoints carry none), a Hugging Face
    /// tokenizer.json, or a GGUF file with tokenizer.ggml.* metadata. Null: the model file's own tokenizer (GGUF
    /// metadata, tokenizer.json beside a safetensors checkpoint, or tokenizer.bin / tok{vocab}.bin beside a llama2.c
    /// checkpoint).
    /// </summary>
    public string? TokenizerPath { get; init; }

    /// <summary>KV cache capacity in tokens (prompt plus generated); 0: min(the model's training context, 4096).</summary>
    public int ContextLength { get; init; }

    /// <summary>Worker threads of the forward pass; 0: the processor count.</summary>
    public int Threads { get; init; }

    /// <summary>How a GGUF file's weights are held: <see cref="FileResidency.Mapped"/> (zero-copy mapping shared with
    /// the page cache, as llama.cpp's default mmap) or <see cref="FileResidency.HugePages"/> (a private copy in 2 MiB
    /// pages: faster decode, the file's size in private memory). Null: <see cref="ModelLoader.DefaultResidency"/>
    /// (huge pages where the kernel offers them and the file takes at most half the memory). Other formats ignore it.</summary>
    public FileResidency? Residency { get; init; }

    /// <summary>KV cache element type. Default F32 (exact); F16 halves the cache as llama.cpp does by default.</summary>
    public KvCacheType KvCacheType { get; init; } = KvCacheType.F32;

    /// <summary>
    /// Jinja chat template overriding the model's (GGUF tokenizer.chat_template or tokenizer_config.json
    /// "chat_template"). When neither exists, <see cref="LlmModel.DefaultChatTemplate"/> (ChatML) is used.
    /// </summary>
    public string? ChatTemplate { get; init; }

    /// <summary>Receives load stages (for a progress indicator); null: none.</summary>
    public IProgress<LlmLoadProgress>? Progress { get; init; }
}
