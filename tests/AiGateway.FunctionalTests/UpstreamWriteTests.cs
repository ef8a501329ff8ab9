using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using AiGateway.FunctionalTests.Infrastructure;
using AiGateway.Resilience;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace AiGateway.FunctionalTests;

/// <summary>
/// What the gateway writes on its upstream connections, seen through a stream wrapped around each socket: a body the
/// gateway holds in memory goes in the same write as the request headers, and arrives whole either way.
/// </summary>
public sealed class UpstreamWriteTests : IAsyncLifetime
{
    private const string Completion = """{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-upstream","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}""";

    private readonly ConcurrentQueue<byte[]> _writes = new();
    private readonly ConcurrentQueue<(string Body, string? ContentType, long? ContentLength, string? TransferEncoding)> _received = new();
    private ScriptedUpstream _upstream = null!;
    private GatewayInstance _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await ScriptedUpstream.StartAsync(async context =>
        {
            var body = await new StreamReader(context.Request.Body).ReadToEndAsync();
            _received.Enqueue((body, context.Request.ContentType, context.Request.ContentLength, context.Request.Headers.TransferEncoding.ToString() is { Length: > 0 } te ? te : null));
            context.Response.ContentType = "application/json";
            if (body.Contains("fail once", StringComparison.Ordinal) && _received.Count == 1)
            {
                context.Response.StatusCode = 503;
                await context.Response.WriteAsync("""{"error":{"message":"overloaded","type":"server_error","param":null,"code":null}}""");
                return;
            }
            await context.Response.WriteAsync(Completion);
        });
        var config = TestConfig.Create(_upstream.BaseUrl);
        _gateway = await GatewayInstance.StartAsync(config.ToJsonString(),
            b => b.Services.AddSingleton<IForwarderHttpClientFactory>(sp => new RecordingClientFactory(sp.GetRequiredService<ILogger<ForwarderHttpClientFactory>>(), _writes)),
            TestConfig.Credentials);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task ChatBody_GoesUpstreamInTheSameWriteAsTheHeaders()
    {
        using var response = await _gateway.Client.PostAsync("v1/chat/completions", Chat("hello there"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var expected = """{"model":"gpt-upstream","messages":[{"role":"user","content":"hello there"}]}""";
        var received = Assert.Single(_received);
        Assert.Equal(expected, received.Body);

        var first = Encoding.UTF8.GetString(Assert.Single(_writes));
        var headerEnd = first.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        Assert.True(headerEnd > 0, first);
        Assert.StartsWith("POST /v1/chat/completions HTTP/1.1\r\n", first, StringComparison.Ordinal);
        Assert.Equal(expected, first[(headerEnd + 4)..]);
        Assert.Contains($"\r\nContent-Length: {Encoding.UTF8.GetByteCount(expected)}\r\n", first, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("\r\nContent-Type: application/json", first, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Transfer-Encoding", first, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task ExpectContinue_IsNotForwarded_AndTheBodyStillGoesWithTheHeaders()
    {
        // curl sends Expect: 100-continue for larger bodies. The gateway has the body already; forwarded, the header
        // would make HttpClient hold the body back until the upstream answered 100.
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = Chat("expecting") };
        request.Headers.ExpectContinue = true;

        using var response = await _gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var expected = """{"model":"gpt-upstream","messages":[{"role":"user","content":"expecting"}]}""";
        Assert.Equal(expected, Assert.Single(_received).Body);
        var written = Encoding.UTF8.GetString(Assert.Single(_writes));
        Assert.DoesNotContain("\r\nExpect:", written, StringComparison.OrdinalIgnoreCase);
        Assert.EndsWith("\r\n\r\n" + expected, written, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BodyLargerThanTheWriteBuffer_ArrivesWholeWithItsLength()
    {
        var text = string.Concat(Enumerable.Repeat("a long conversation turn, ", 900));
        using var response = await _gateway.Client.PostAsync("v1/chat/completions", Chat(text));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(_received);
        var expected = JsonSerializer.Serialize(new { model = "gpt-upstream", messages = new[] { new { role = "user", content = text } } });
        Assert.Equal(expected, received.Body);
        Assert.Equal(Encoding.UTF8.GetByteCount(expected), received.ContentLength);
        Assert.Null(received.TransferEncoding);
        Assert.Equal("application/json", received.ContentType);
        Assert.True(_writes.Sum(w => w.Length) > expected.Length);
    }

    [Fact]
    public async Task RetriedAttempt_SendsTheWholeBodyAgain_InOneWrite()
    {
        using var response = await _gateway.Client.PostAsync("v1/chat/completions", Chat("fail once"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("2", response.Headers.GetValues("x-gateway-attempts").Single());
        var expected = """{"model":"gpt-upstream","messages":[{"role":"user","content":"fail once"}]}""";
        Assert.Equal([expected, expected], _received.Select(r => r.Body));
        // One write per attempt, each the whole request (whether the second reused the connection or opened one).
        Assert.Equal(2, _writes.Count);
        Assert.All(_writes, w => Assert.EndsWith("\r\n\r\n" + expected, Encoding.UTF8.GetString(w), StringComparison.Ordinal));
    }

    private static StringContent Chat(string content) =>
        new(JsonSerializer.Serialize(new { model = "gpt-test", messages = new[] { new { role = "user", content } } }), Encoding.UTF8, new MediaTypeHeaderValue("application/json"));

    /// <summary>The gateway's own factory, whose connections record every write.</summary>
    private sealed class RecordingClientFactory(ILogger<ForwarderHttpClientFactory> logger, ConcurrentQueue<byte[]> writes) : GatewayHttpClientFactory(logger)
    {
        protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
        {
            base.ConfigureHandler(context, handler);
            handler.ConnectCallback = async (connect, ct) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(connect.DnsEndPoint, ct);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
                return new RecordingStream(new NetworkStream(socket, ownsSocket: true), writes);
            };
        }
    }

    private sealed class RecordingStream(Stream inner, ConcurrentQueue<byte[]> writes) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => inner.Flush();
        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override int Read(Span<byte> buffer) => inner.Read(buffer);
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.ReadAsync(buffer, offset, count, cancellationToken);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            writes.Enqueue(buffer.ToArray());
            inner.Write(buffer);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            writes.Enqueue(buffer.ToArray());
            return inner.WriteAsync(buffer, cancellationToken);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }

        public override ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
