using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using Quanta.Engine.Sampling;
using TemplateMessage = Quanta.Core.Templates.ChatMessage;

namespace Quanta.Engine.Generation;

/// <summary>
/// <see cref="IChatClient"/> over an <see cref="LlmModel"/>: the messages (roles system/user/assistant/tool, text
/// contents; <see cref="ChatOptions.Instructions"/> as a leading system message) are rendered with the model's chat
/// template with add_generation_prompt, tokenized (<see cref="LlmModel.TokenizeChatPrompt"/>) and generated from with
/// the sampling options mapped by <see cref="ToSamplingParameters"/> (<see cref="ChatResponseFormat.Json"/> constrains the
/// output to one JSON object). Responses carry usage (input/output/total tokens)
/// and the finish reason. Cancellation throws <see cref="OperationCanceledException"/>, as IChatClient callers expect.
/// Requests run one at a time on the model (see <see cref="LlmModel"/>).
/// </summary>
public sealed class LlmChatClient : IChatClient
{
    private readonly LlmModel _model;
    private readonly bool _ownsModel;

    /// <summary>Wraps <paramref name="model"/>; with <paramref name="ownsModel"/> the client disposes it.</summary>
    public LlmChatClient(LlmModel model, bool ownsModel = false)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _ownsModel = ownsModel;
        Metadata = new ChatClientMetadata("quanta", null, model.Name);
    }

    /// <summary>Provider "quanta", the model's <see cref="LlmModel.Name"/> as the default model id.</summary>
    public ChatClientMetadata Metadata { get; }

    /// <summary>
    /// Maps chat options to sampling: Temperature, TopP, TopK, MaxOutputTokens → MaxTokens, StopSequences → Stop, Seed,
    /// FrequencyPenalty, PresencePenalty, ResponseFormat <see cref="ChatResponseFormat.Json"/> →
    /// <see cref="SamplingParameters.JsonObject"/> (output constrained to one JSON object, as the server's
    /// response_format json_object). Unset options keep the <see cref="SamplingParameters"/> defaults
    /// (temperature 1, no truncation, no penalties, no limit, free text).
    /// </summary>
    /// <exception cref="NotSupportedException">A JSON response format with a schema (the server refuses json_schema
    /// too), or a response format of an unknown kind.</exception>
    public static SamplingParameters ToSamplingParameters(ChatOptions? options)
    {
        var p = new SamplingParameters();
        if (options is null) return p;
        return p with
        {
            JsonObject = IsJsonObject(options.ResponseFormat),
            Temperature = options.Temperature ?? p.Temperature,
            TopP = options.TopP ?? p.TopP,
            TopK = options.TopK ?? p.TopK,
            MaxTokens = options.MaxOutputTokens ?? p.MaxTokens,
            Stop = options.StopSequences is { } s ? s.ToArray() : p.Stop,
            Seed = options.Seed is long seed ? unchecked((ulong)seed) : p.Seed,
            FrequencyPenalty = options.FrequencyPenalty ?? p.FrequencyPenalty,
            PresencePenalty = options.PresencePenalty ?? p.PresencePenalty,
        };
    }

    // null or text: free text; JSON without a schema: one JSON object; a schema is refused rather than ignored.
    private static bool IsJsonObject(ChatResponseFormat? format) => format switch
    {
        null or ChatResponseFormatText => false,
        ChatResponseFormatJson { Schema: null } => true,
        ChatResponseFormatJson json => throw new NotSupportedException(
            $"ChatResponseFormat with a JSON schema ({json.SchemaName ?? "unnamed"}) is not supported: decoding can be constrained to one JSON " +
            "object (ChatResponseFormat.Json) but not to a schema; use ChatResponseFormat.Json and describe the schema in the prompt"),
        _ => throw new NotSupportedException($"response format {format.GetType().Name} is not supported; use ChatResponseFormat.Text or ChatResponseFormat.Json"),
    };

    /// <summary>The prompt text the model sees for <paramref name="messages"/> (chat template, add_generation_prompt true).</summary>
    public string RenderPrompt(IEnumerable<ChatMessage> messages, ChatOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var list = new List<TemplateMessage>();
        if (!string.IsNullOrEmpty(options?.Instructions)) list.Add(new TemplateMessage("system", options.Instructions));
        foreach (ChatMessage m in messages)
        {
            var tm = new TemplateMessage(m.Role.Value, m.Text);
            foreach (AIContent c in m.Contents)
            {
                if (c is FunctionResultContent fr)
                {
                    tm.ToolCallId = fr.CallId;
                    if (string.IsNullOrEmpty(m.Text)) tm.Content = System.Text.Json.Nodes.JsonValue.Create(fr.Result?.ToString() ?? "");
                }
            }
            if (m.AuthorName is not null) tm.Name = m.AuthorName;
            list.Add(tm);
        }
        return _model.ApplyChatTemplate(list, addGenerationPrompt: true);
    }

    /// <inheritdoc/>
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        int[] prompt = _model.TokenizeChatPrompt(RenderPrompt(messages, options));
        SamplingParameters p = ToSamplingParameters(options);
        GenerationResult r = await Task.Run(() => _model.Generate(prompt, p, cancellationToken), cancellationToken).ConfigureAwait(false);
        if (r.FinishReason == GenerationFinishReason.Cancelled) throw new OperationCanceledException(cancellationToken);
        return new ChatResponse(new ChatMessage(ChatRole.Assistant, r.Text))
        {
            ModelId = _model.Name,
            ResponseId = NewId(),
            CreatedAt = DateTimeOffset.UtcNow,
            FinishReason = Map(r.FinishReason),
            Usage = Usage(r.Usage),
        };
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        int[] prompt = _model.TokenizeChatPrompt(RenderPrompt(messages, options));
        SamplingParameters p = ToSamplingParameters(options);
        string id = NewId();
        DateTimeOffset created = DateTimeOffset.UtcNow;
        await foreach (GenerationChunk chunk in _model.GenerateStreaming(prompt, p, cancellationToken).ConfigureAwait(false))
        {
            if (chunk.FinishReason == GenerationFinishReason.Cancelled) throw new OperationCanceledException(cancellationToken);
            if (!chunk.IsFinal)
            {
                if (chunk.Text.Length > 0)
                    yield return new ChatResponseUpdate(ChatRole.Assistant, chunk.Text) { ResponseId = id, MessageId = id, ModelId = _model.Name, CreatedAt = created };
                continue;
            }
            var contents = new List<AIContent>();
            if (chunk.Text.Length > 0) contents.Add(new TextContent(chunk.Text));
            contents.Add(new UsageContent(Usage(chunk.Usage!)));
            yield return new ChatResponseUpdate(ChatRole.Assistant, contents)
            {
                ResponseId = id,
                MessageId = id,
                ModelId = _model.Name,
                CreatedAt = created,
                FinishReason = Map(chunk.FinishReason!.Value),
            };
        }
    }

    /// <inheritdoc/>
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null) return null;
        if (serviceType == typeof(ChatClientMetadata)) return Metadata;
        if (serviceType.IsInstanceOfType(_model)) return _model;
        if (serviceType.IsInstanceOfType(this)) return this;
        return null;
    }

    /// <summary>Disposes the model when the client owns it.</summary>
    public void Dispose()
    {
        if (_ownsModel) _model.Dispose();
    }

    private static string NewId() => "chatcmpl-" + Guid.NewGuid().ToString("N");

    private static ChatFinishReason Map(GenerationFinishReason r) => r == GenerationFinishReason.Length ? ChatFinishReason.Length : ChatFinishReason.Stop;

    private static UsageDetails Usage(GenerationUsage u) => new()
    {
        InputTokenCount = u.PromptTokens,
        OutputTokenCount = u.CompletionTokens,
        TotalTokenCount = u.TotalTokens,
    };
}
