using System.Text;
using Microsoft.AspNetCore.Http;
using Quanta.Core.Templates;
using Quanta.Engine.Serving;
using Quanta.Server.Protocol;

namespace Quanta.Server;

/// <summary>
/// POST /v1/chat/completions: messages rendered with the model's chat template (add_generation_prompt), generated
/// with the request's sampling, answered as one chat.completion or streamed as chat.completion.chunk events.
/// response_format json_object constrains decoding (<see cref="Quanta.Engine.Sampling.JsonLogitsProcessor"/>): the output
/// is one JSON object, unless max_tokens cuts it (finish_reason "length", output incomplete, as with OpenAI).
/// json_schema is refused with 400 (not supported) rather than silently ignored.
/// </summary>
internal static class ChatEndpoint
{
    public static async Task HandleAsync(HttpContext ctx, QuantaServer server)
    {
        DateTimeOffset arrival = DateTimeOffset.UtcNow;
        ChatCompletionRequest body = await Http.ReadJsonAsync(ctx, ServerJsonContext.Default.ChatCompletionRequest).ConfigureAwait(false);
        ServingEngine engine = server.FindModel(body.Model);
        var messages = RequestMapping.Messages(body.Messages);
        if (body.ResponseFormat?.Type is { } rf && rf is not ("text" or "json_object" or "json_schema"))
            throw ApiException.BadParam("response_format", $"response_format.type must be text, json_object or json_schema, got '{rf}'");
        if (body.ResponseFormat?.Type == "json_schema")
            throw ApiException.BadParam("response_format", "response_format json_schema is not supported by this server; use {\"type\": \"json_object\"} (output constrained to one JSON object) and describe the schema in the prompt");
        var sampling = RequestMapping.Sampling(body, body.MaxCompletionTokens ?? body.MaxTokens, server.Options.MaxTokens,
            body.Logprobs ?? false, body.TopLogprobs ?? 0, engine.Model.Tokenizer.VocabSize);
        if (body.ResponseFormat?.Type == "json_object") sampling = sampling with { JsonObject = true };
        string rendered;
        try
        {
            rendered = engine.Model.ApplyChatTemplate(messages);
        }
        catch (TemplateException e)
        {
            throw ApiException.BadParam("messages", "the chat template failed on these messages: " + e.Message);
        }
        int[] prompt = engine.Model.TokenizeChatPrompt(rendered);
        var request = new ServingRequest { Prompt = prompt, Sampling = sampling, Priority = body.Priority ?? 0, Deadline = RequestMapping.Deadline(body, arrival), IgnoreEos = body.IgnoreEos ?? false };
        ServingCall call = server.Submit(engine, request, "messages", ctx.RequestAborted);
        string id = "chatcmpl-" + Guid.NewGuid().ToString("N");
        long created = arrival.ToUnixTimeSeconds();
        if (body.Stream == true) await StreamAsync(ctx, engine, call, id, created, body.StreamOptions?.IncludeUsage == true).ConfigureAwait(false);
        else await AnswerAsync(ctx, engine, call, id, created).ConfigureAwait(false);
    }

    private static async Task AnswerAsync(HttpContext ctx, ServingEngine engine, ServingCall call, string id, long created)
    {
        int n = call.Choices;
        var text = new StringBuilder[n];
        var choices = new List<ChatChoice>(n);
        for (int i = 0; i < n; i++)
        {
            text[i] = new StringBuilder();
            choices.Add(new ChatChoice { Index = i });
        }
        await foreach (ServingDelta d in call.ReadAllAsync(ctx.RequestAborted).ConfigureAwait(false))
        {
            text[d.Choice].Append(d.Text);
            if (d.Logprob is { } lp) (choices[d.Choice].Logprobs ??= new ChatLogprobs()).Content.Add(Logprob(engine, lp));
            if (d.Finish is { } f) choices[d.Choice].FinishReason = RequestMapping.FinishReason(f);
        }
        ServingUsage usage = await call.Usage.ConfigureAwait(false);
        for (int i = 0; i < n; i++) choices[i].Message = new ChatResponseMessage { Role = "assistant", Content = text[i].ToString() };
        var response = new ChatCompletionResponse { Id = id, Created = created, Model = engine.Id, Choices = choices, Usage = RequestMapping.Usage(usage) };
        await Http.WriteJsonAsync(ctx, 200, response, ServerJsonContext.Default.ChatCompletionResponse).ConfigureAwait(false);
    }

    private static async Task StreamAsync(HttpContext ctx, ServingEngine engine, ServingCall call, string id, long created, bool includeUsage)
    {
        CancellationToken ct = ctx.RequestAborted;
        using var sse = new Sse(ctx.Response);
        var info = ServerJsonContext.Default.ChatCompletionChunk;
        ChatCompletionChunk Chunk(ChatChunkChoice? c) => new() { Id = id, Created = created, Model = engine.Id, Choices = c is null ? [] : [c] };
        for (int i = 0; i < call.Choices; i++)
            sse.Append(Chunk(new ChatChunkChoice { Index = i, Delta = new ChatResponseMessage { Role = "assistant", Content = "" } }), info);
        await sse.FlushAsync(ct).ConfigureAwait(false);
        // every delta already produced goes out in one flush
        while (await call.WaitToReadAsync(ct).ConfigureAwait(false))
        {
            bool any = false;
            while (call.TryRead(out ServingDelta? d))
            {
                if (d.Text.Length == 0 && d.Logprob is null && d.Finish is null) continue;
                var choice = new ChatChunkChoice
                {
                    Index = d.Choice,
                    Delta = new ChatResponseMessage { Content = d.Text.Length > 0 ? d.Text : null },
                    Logprobs = d.Logprob is { } lp ? new ChatLogprobs { Content = [Logprob(engine, lp)] } : null,
                    FinishReason = d.Finish is { } f ? RequestMapping.FinishReason(f) : null,
                };
                sse.Append(Chunk(choice), info);
                any = true;
            }
            if (any) await sse.FlushAsync(ct).ConfigureAwait(false);
        }
        ServingUsage usage = await call.Usage.ConfigureAwait(false);
        if (includeUsage)
        {
            ChatCompletionChunk last = Chunk(null);
            last.Usage = RequestMapping.Usage(usage);
            sse.Append(last, info);
        }
        sse.AppendDone();
        await sse.FlushAsync(ct).ConfigureAwait(false);
    }

    internal static ChatTokenLogprob Logprob(ServingEngine engine, ServingLogprob lp)
    {
        ChatTokenLogprob One(int token, float logprob)
        {
            byte[] bytes = engine.Model.Tokenizer.TokenToPiece(token, renderSpecial: true).ToArray();
            return new ChatTokenLogprob { Token = Encoding.UTF8.GetString(bytes), Logprob = RequestMapping.Finite(logprob), Bytes = [.. bytes.Select(b => (int)b)] };
        }
        ChatTokenLogprob result = One(lp.Token, lp.Logprob);
        result.TopLogprobs = [.. lp.Top.Select(t => One(t.Token, t.Logprob))];
        return result;
    }
}
