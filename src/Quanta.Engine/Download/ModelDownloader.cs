using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace Quanta.Engine.Download;

/// <summary>One progress report of a download: bytes of the file on disk so far, the file's total size when the server said it, and the speed of this session.</summary>
public readonly record struct DownloadProgress(long Received, long? Total, double BytesPerSecond);

/// <summary>What <see cref="ModelDownloader.DownloadAsync"/> did: the final file, its size and SHA-256 (lowercase hex), whether an earlier
/// partial download was resumed, and where the checked checksum came from (null when none was available and nothing was checked).</summary>
public sealed record DownloadResult(string Path, long Bytes, string Sha256, bool Resumed, string? ChecksumSource);

/// <summary>
/// Downloads one model file (GGUF or any other) from a Hugging Face-style URL (https://host/ORG/REPO/resolve/REV/FILE).
/// Contract: the body streams into DIR/FILE.part; an existing .part is resumed with a Range request from its length (206 appends,
/// a 200 reply restarts from zero, 416 means the .part is already complete). The SHA-256 of the whole file is checked against the
/// caller's value, else against an <c>X-Linked-ETag</c> / <c>ETag</c> header of any hop when it is 64 hex digits (Hugging Face sends
/// the LFS sha256 there); on a mismatch the .part is deleted and <see cref="InvalidDataException"/> is thrown. On success the .part
/// is renamed to FILE (atomic on one file system). HTTP and network failures throw <see cref="IOException"/> with a one-line message.
/// Redirects are followed here (at most 10), so the client may have automatic redirects off; an Authorization header (the token)
/// is sent only to the URL's own host.
/// </summary>
public static class ModelDownloader
{
    private const int MaxRedirects = 10;
    private const int BufferSize = 1 << 16;

    /// <summary>The file name a URL names: its last path segment, unescaped; throws <see cref="ArgumentException"/> when there is none usable.</summary>
    public static string FileNameFromUrl(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
            throw new ArgumentException($"not an http(s) URL: {url}");
        string name = Uri.UnescapeDataString(url.AbsolutePath.TrimEnd('/').Split('/')[^1]);
        if (name.Length == 0 || name is "." or ".." || name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || name.Contains('\\', StringComparison.Ordinal))
            throw new ArgumentException($"the URL names no file: {url}");
        return name;
    }

    /// <summary>True when <paramref name="hex"/> is exactly 64 hexadecimal digits (a SHA-256).</summary>
    public static bool IsSha256Hex(string? hex) => hex is { Length: 64 } && hex.All(Uri.IsHexDigit);

    /// <summary>The SHA-256 a response's headers announce (<c>X-Linked-ETag</c> first, then <c>ETag</c>), or null when neither is a 64-hex digest.</summary>
    public static string? Sha256FromHeaders(HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        foreach (string name in (string[])["X-Linked-ETag", "ETag"])
        {
            if (!response.Headers.TryGetValues(name, out var values)) continue;
            foreach (string v in values)
            {
                string s = v.Trim();
                if (s.StartsWith("W/", StringComparison.Ordinal)) s = s[2..];
                s = s.Trim('"');
                if (IsSha256Hex(s)) return s;
            }
        }
        return null;
    }

    /// <summary>
    /// Downloads <paramref name="url"/> into <paramref name="outputDirectory"/> (created if missing) as described on the type.
    /// <paramref name="expectedSha256"/> (64 hex digits) overrides the server's checksum; <paramref name="bearerToken"/> is sent to the
    /// URL's host only.
    /// </summary>
    public static async Task<DownloadResult> DownloadAsync(HttpClient http, Uri url, string outputDirectory, string? expectedSha256 = null,
        string? bearerToken = null, IProgress<DownloadProgress>? progress = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(outputDirectory);
        if (expectedSha256 is not null && !IsSha256Hex(expectedSha256))
            throw new ArgumentException($"--sha256 must be 64 hexadecimal digits, got '{expectedSha256}'");
        string name = FileNameFromUrl(url);
        Directory.CreateDirectory(outputDirectory);
        string final = Path.Combine(outputDirectory, name);
        string part = final + ".part";

        long offset = File.Exists(part) ? new FileInfo(part).Length : 0;
        bool resumed = false;
        string? serverSha = null;
        using (HttpResponseMessage response = await SendAsync(http, url, offset, bearerToken, h => serverSha ??= h, ct).ConfigureAwait(false))
        {
            if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && offset > 0)
            {
                long? length = response.Content.Headers.ContentRange?.Length;
                if (length is not null && length != offset)
                    throw new IOException($"the server refused to resume {name} at byte {offset} of {length}; delete {part} and try again");
                resumed = true; // the .part already holds the whole file
            }
            else
            {
                if (!response.IsSuccessStatusCode) throw new IOException(Describe(response, url));
                long? total;
                bool append;
                ContentRangeHeaderValue? range = response.Content.Headers.ContentRange;
                if (response.StatusCode == HttpStatusCode.PartialContent)
                {
                    if (offset == 0 || range?.From != offset)
                        throw new IOException($"the server answered a range other than the one asked for (from byte {offset}): {url}");
                    append = true;
                    resumed = true;
                    total = range.Length;
                }
                else
                {
                    append = false; // 200: a full body, whether or not a range was asked for
                    total = response.Content.Headers.ContentLength;
                }
                await CopyBodyAsync(response, part, append, append ? offset : 0, total, progress, ct).ConfigureAwait(false);
            }
        }

        string actual;
        long bytes;
        using (var fs = new FileStream(part, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, FileOptions.SequentialScan | FileOptions.Asynchronous))
        {
            bytes = fs.Length;
            actual = Convert.ToHexStringLower(await SHA256.HashDataAsync(fs, ct).ConfigureAwait(false));
        }
        string? expected = expectedSha256 ?? serverSha;
        string? source = expectedSha256 is not null ? "--sha256" : serverSha is not null ? "server" : null;
        if (expected is not null && !string.Equals(expected, actual, StringComparison.OrdinalIgnoreCase))
        {
            File.Delete(part);
            throw new InvalidDataException(
                $"SHA-256 mismatch for {name}: expected {expected} ({source}), got {actual}; deleted the partial download {part}");
        }
        File.Move(part, final, overwrite: true);
        return new DownloadResult(final, bytes, actual, resumed, source);
    }

    /// <summary>Sends the GET (with a Range from <paramref name="offset"/> when positive), following redirects and noting any checksum header.</summary>
    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, Uri url, long offset, string? token, Action<string> onSha, CancellationToken ct)
    {
        Uri current = url;
        for (int hop = 0; ; hop++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, current);
            if (offset > 0) request.Headers.Range = new RangeHeaderValue(offset, null);
            if (token is not null && string.Equals(current.Host, url.Host, StringComparison.OrdinalIgnoreCase))
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
            }
            catch (HttpRequestException e)
            {
                throw new IOException($"network error fetching {current}: {e.Message}", e);
            }
            catch (TaskCanceledException e) when (!ct.IsCancellationRequested)
            {
                throw new IOException($"timed out fetching {current}", e);
            }
            string? sha = Sha256FromHeaders(response);
            if (sha is not null) onSha(sha);
            int code = (int)response.StatusCode;
            if (code is >= 300 and < 400 && response.Headers.Location is { } location)
            {
                response.Dispose();
                if (hop >= MaxRedirects) throw new IOException($"too many redirects fetching {url}");
                current = location.IsAbsoluteUri ? location : new Uri(current, location);
                continue;
            }
            return response;
        }
    }

    private static async Task CopyBodyAsync(HttpResponseMessage response, string part, bool append, long start, long? total,
        IProgress<DownloadProgress>? progress, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        long received = start;
        byte[] buffer = new byte[BufferSize];
        try
        {
            using Stream body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
            using var fs = new FileStream(part, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, BufferSize, FileOptions.Asynchronous);
            progress?.Report(new DownloadProgress(received, total, 0));
            int n;
            while ((n = await body.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
            {
                await fs.WriteAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
                received += n;
                double seconds = clock.Elapsed.TotalSeconds;
                progress?.Report(new DownloadProgress(received, total, seconds > 0 ? (received - start) / seconds : 0));
            }
        }
        catch (HttpRequestException e)
        {
            throw new IOException($"network error while downloading {response.RequestMessage?.RequestUri} ({received} bytes kept in {part}; run again to resume): {e.Message}", e);
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
        {
            throw new IOException($"download interrupted ({received} bytes kept in {part}; run again to resume): {e.Message}", e);
        }
        if (total is not null && received != total)
            throw new IOException($"download ended early: {received} of {total} bytes ({part} kept; run again to resume)");
    }

    private static string Describe(HttpResponseMessage response, Uri url) => (int)response.StatusCode switch
    {
        404 => $"not found (HTTP 404): {url}",
        401 or 403 => string.Create(CultureInfo.InvariantCulture,
            $"access denied (HTTP {(int)response.StatusCode}): {url} (a gated or private repository needs a token: set HF_TOKEN)"),
        int code => string.Create(CultureInfo.InvariantCulture, $"HTTP {code} {response.ReasonPhrase}: {url}"),
    };
}
