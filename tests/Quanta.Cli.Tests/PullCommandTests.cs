using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace Quanta.Cli.Tests;

/// <summary>
/// `quanta pull` against a loopback HTTP server (HttpListener on 127.0.0.1, a free port) serving a 3 MB random file at
/// /org/repo/resolve/main/model.gguf with Range support and the file's SHA-256 (computed here with SHA256.HashData) as X-Linked-ETag.
/// </summary>
public sealed class PullCommandTests : IDisposable
{
    private const string FilePath = "/org/repo/resolve/main/model.gguf";
    private readonly byte[] _data = new byte[3 * 1024 * 1024 + 123];
    private readonly string _sha;
    private readonly HttpListener _listener = new();
    private readonly string _base;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"quanta-pull-{Guid.NewGuid():N}");
    private readonly ConcurrentQueue<string> _ranges = new();
    private volatile bool _ignoreRanges;

    public PullCommandTests()
    {
        Random.Shared.NextBytes(_data);
        _sha = Convert.ToHexStringLower(SHA256.HashData(_data));
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        _base = $"http://127.0.0.1:{port}";
        _listener.Prefixes.Add(_base + "/");
        _listener.Start();
        _ = Task.Run(ServeAsync);
        Directory.CreateDirectory(_dir);
    }

    public void Dispose()
    {
        _listener.Close();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext ctx;
            try { ctx = await _listener.GetContextAsync(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { return; }
            try
            {
                var res = ctx.Response;
                if (ctx.Request.Url!.AbsolutePath != FilePath)
                {
                    res.StatusCode = 404;
                    res.Close();
                    continue;
                }
                string? range = ctx.Request.Headers["Range"];
                _ranges.Enqueue(range ?? "(none)");
                res.Headers["X-Linked-ETag"] = $"\"{_sha}\"";
                res.Headers["Accept-Ranges"] = "bytes";
                long from = 0;
                if (!_ignoreRanges && range is not null && range.StartsWith("bytes=") && range.EndsWith('-'))
                {
                    from = long.Parse(range[6..^1]);
                    if (from >= _data.Length)
                    {
                        res.StatusCode = 416;
                        res.Headers["Content-Range"] = $"bytes */{_data.Length}";
                        res.Close();
                        continue;
                    }
                    res.StatusCode = 206;
                    res.Headers["Content-Range"] = $"bytes {from}-{_data.Length - 1}/{_data.Length}";
                }
                res.ContentLength64 = _data.Length - from;
                await res.OutputStream.WriteAsync(_data.AsMemory((int)from));
                res.Close();
            }
            catch (HttpListenerException) { }
        }
    }

    private string Final => Path.Combine(_dir, "model.gguf");

    [Fact]
    public void Full_download_verifies_the_server_checksum_and_prints_only_the_path()
    {
        var r = CliHarness.Run("pull", _base + FilePath, "--out", _dir);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(Final, r.Stdout.Trim());
        Assert.Equal(_data, File.ReadAllBytes(Final));
        Assert.False(File.Exists(Final + ".part"));
        Assert.Contains("verified (server)", r.Stderr);
        Assert.Contains(_sha, r.Stderr);
        Assert.Equal(new[] { "(none)" }, _ranges.ToArray());
    }

    [Fact]
    public void Interrupted_download_resumes_with_a_range_request()
    {
        const int have = 1024 * 1024;
        File.WriteAllBytes(Final + ".part", _data.AsSpan(0, have).ToArray());
        var r = CliHarness.Run("pull", _base + FilePath, "--out", _dir, "--sha256", _sha.ToUpperInvariant());
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(Final, r.Stdout.Trim());
        Assert.Equal(new[] { $"bytes={have}-" }, _ranges.ToArray());
        Assert.Equal(_data, File.ReadAllBytes(Final));
        Assert.False(File.Exists(Final + ".part"));
        Assert.Contains("(resumed)", r.Stderr);
    }

    [Fact]
    public void Server_ignoring_the_range_with_200_restarts_from_zero()
    {
        _ignoreRanges = true;
        // a .part of garbage: appending the full body to it would give the wrong bytes and a checksum mismatch
        byte[] junk = new byte[500_000];
        Random.Shared.NextBytes(junk);
        File.WriteAllBytes(Final + ".part", junk);
        var r = CliHarness.Run("pull", _base + FilePath, "--out", _dir);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(new[] { "bytes=500000-" }, _ranges.ToArray());
        Assert.Equal(_data, File.ReadAllBytes(Final));
        Assert.DoesNotContain("(resumed)", r.Stderr);
    }

    [Fact]
    public void Complete_part_file_answered_416_is_finished_without_a_body()
    {
        File.WriteAllBytes(Final + ".part", _data);
        var r = CliHarness.Run("pull", _base + FilePath, "--out", _dir);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(new[] { $"bytes={_data.Length}-" }, _ranges.ToArray());
        Assert.Equal(_data, File.ReadAllBytes(Final));
    }

    [Fact]
    public void Checksum_mismatch_fails_with_one_line_and_leaves_no_file()
    {
        string wrong = new('0', 64);
        var r = CliHarness.Run("pull", _base + FilePath, "--out", _dir, "--sha256", wrong);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.Stdout);
        string line = Assert.Single(r.Stderr.Trim().Split('\n'), l => l.StartsWith("quanta:"));
        Assert.Contains("SHA-256 mismatch", line);
        Assert.Contains(wrong, line);
        Assert.Contains(_sha, line);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.False(File.Exists(Final));
        Assert.False(File.Exists(Final + ".part"));
    }

    [Fact]
    public void Missing_file_404_gives_one_clear_line()
    {
        string url = _base + "/org/repo/resolve/main/absent.gguf";
        var r = CliHarness.Run("pull", url, "--out", _dir);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.Equal($"quanta: error: not found (HTTP 404): {url}", r.Stderr.Trim());
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Fact]
    public void Refused_connection_gives_one_network_error_line()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var r = CliHarness.Run("pull", $"http://127.0.0.1:{port}/a/b/resolve/main/x.gguf", "--out", _dir);
        Assert.Equal(1, r.ExitCode);
        Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.StartsWith("quanta: error: network error fetching", r.Stderr);
    }
}
