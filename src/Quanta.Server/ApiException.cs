namespace Quanta.Server;

/// <summary>An error answered as OpenAI's error JSON with <see cref="Status"/>.</summary>
public sealed class ApiException : Exception
{
    /// <summary>Creates the error.</summary>
    public ApiException(int status, string message, string type = "invalid_request_error", string? param = null, string? code = null)
        : base(message)
    {
        Status = status;
        Type = type;
        Param = param;
        Code = code;
    }

    /// <summary>Creates a 400.</summary>
    public ApiException() : this(400, "bad request") { }

    /// <summary>Creates a 400.</summary>
    public ApiException(string message) : this(400, message) { }

    /// <summary>Creates a 400.</summary>
    public ApiException(string message, Exception innerException) : base(message, innerException)
    {
        Status = 400;
        Type = "invalid_request_error";
    }

    /// <summary>HTTP status.</summary>
    public int Status { get; }

    /// <summary>OpenAI error type.</summary>
    public string Type { get; }

    /// <summary>The offending parameter.</summary>
    public string? Param { get; }

    /// <summary>Machine-readable code.</summary>
    public string? Code { get; }

    /// <summary>Retry-After seconds to send, if any.</summary>
    public int? RetryAfterSeconds { get; init; }

    /// <summary>A 400 invalid_request_error naming <paramref name="param"/>.</summary>
    public static ApiException BadParam(string param, string message) => new(400, message, "invalid_request_error", param, "invalid_value");
}
