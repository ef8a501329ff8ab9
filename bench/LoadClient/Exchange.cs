using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;

namespace LoadClient;

/// <summary>Outcome of one request. Times are <see cref="Stopwatch"/> ticks from the send.</summary>
internal readonly record struct ExchangeResult(bool Ok, long FirstEventTicks, long TotalTicks, int Events, bool Usage);

/// <summary>Sends one chat request and, for SSE, counts <c>data:</c> events up to <c>[DONE]</c>.</summary>
internal sealed class Exchange : IDisposable
{
    private static readonly byte[] DataPrefix = "data:"u8.ToArray();
    private static readonly byte[] DoneMarker = "[DONE]"u8.ToArray();
    private static readonly byte[] UsageMarker = "\"usage\":{"u8.ToArray();

    private readonly HttpClient _client;
    private readonly Uri _url;
    private readonly byte[] _body;
    private readonly List<KeyValuePair<string, string>> _headers;
    private readonly MediaTypeHeaderValue _json = new("application/json");

    public Exchange(Options options)
    {
        _url = new Uri(options.String("url"));
        if (!IPAddress.TryParse(_url.Host, out var address) || !IPAddress.IsLoopback(address))
        {
            throw new ArgumentException($"--url must target a loopback address, got '{_url.Host}'");
        }

        _body = File.ReadAllBytes(options.String("body"));
        _headers = options.Headers;
        Stream = options.Flag("stream");
        _client = new HttpClient(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            MaxConnectionsPerServer = int.MaxValue,
            ConnectTimeout = TimeSpan.FromSeconds(10),
        })
        {
            Timeout = TimeSpan.FromSeconds(options.Number("timeout", 120)),
        };
    }

    public bool Stream { get; }

    public async Task<ExchangeResult> SendAsync(Action? onFirstEvent = null, CancellationToken cancellationToken = default)
    {
        var start = Stopwatch.GetTimestamp();
        using var request = new HttpRequestMessage(HttpMethod.Post, _url) { Content = new ByteArrayContent(_body) };
        request.Content.Headers.ContentType = _json;
        foreach (var (name, value) in _headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        try
        {
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                await body.CopyToAsync(System.IO.Stream.Null, cancellationToken);
                return new ExchangeResult(false, 0, Stopwatch.GetTimestamp() - start, 0, false);
            }

            if (!Stream)
            {
                await body.CopyToAsync(System.IO.Stream.Null, cancellationToken);
                var total = Stopwatch.GetTimestamp() - start;
                return new ExchangeResult(true, total, total, 0, false);
            }

            return await ReadEventsAsync(body, start, onFirstEvent, cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException)
        {
            return new ExchangeResult(false, 0, Stopwatch.GetTimestamp() - start, 0, false);
        }
    }

    private static async Task<ExchangeResult> ReadEventsAsync(Stream body, long start, Action? onFirstEvent, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            long firstEvent = 0;
            var events = 0;
            var usage = false;
            var done = false;
            var filled = 0;
            while (true)
            {
                if (filled == buffer.Length)
                {
                    var bigger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, filled).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }

                var read = await body.ReadAsync(buffer.AsMemory(filled), cancellationToken);
                if (read == 0)
                {
                    break;
                }

                filled += read;
                var consumed = 0;
                int newline;
                while ((newline = buffer.AsSpan(consumed, filled - consumed).IndexOf((byte)'\n')) >= 0)
                {
                    var line = buffer.AsSpan(consumed, newline);
                    consumed += newline + 1;
                    if (!line.StartsWith(DataPrefix))
                    {
                        continue;
                    }

                    var data = line[DataPrefix.Length..].TrimStart((byte)' ').TrimEnd((byte)'\r');
                    if (data.SequenceEqual(DoneMarker))
                    {
                        done = true;
                        continue;
                    }

                    if (events++ == 0)
                    {
                        firstEvent = Stopwatch.GetTimestamp() - start;
                        onFirstEvent?.Invoke();
                    }

                    usage |= data.IndexOf(UsageMarker) >= 0;
                }

                buffer.AsSpan(consumed, filled - consumed).CopyTo(buffer);
                filled -= consumed;
            }

            return new ExchangeResult(done && events > 0, firstEvent, Stopwatch.GetTimestamp() - start, events, usage);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public void Dispose() => _client.Dispose();
}
