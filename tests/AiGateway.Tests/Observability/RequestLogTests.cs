using System.Buffers;
using System.Text;
using System.Text.Json;
using AiGateway.Observability;
using Microsoft.Extensions.Logging;

namespace AiGateway.Tests.Observability;

public class RequestLogTests
{
    private static readonly RequestLogEntry Full = new()
    {
        Method = "POST",
        Route = "/v1/chat/completions",
        Status = 200,
        DurationMs = 12.5,
        RequestId = "req_1",
        KeyName = "alpha",
        Model = "gpt-test",
        Deployment = "openai/gpt",
        InputTokens = 12,
        OutputTokens = 3,
        Cache = "none",
        Attempts = 1,
        TimeToFirstTokenMs = 4.25,
        ErrorType = "timeout",
    };

    [Fact]
    public void Entry_AllFields_ListAndJsonAgree()
    {
        var list = Full.ToDictionary(p => p.Key, p => p.Value);

        Assert.Equal(14, Full.Count);
        Assert.Equal(12, list["InputTokens"]);
        Assert.Equal(4.25, list["TimeToFirstTokenMs"]);
        using var json = Format(Full);
        var state = json.RootElement.GetProperty("State");
        Assert.Equal(14, state.EnumerateObject().Count());
        foreach (var (name, value) in list)
        {
            Assert.Equal(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture), state.GetProperty(name).ToString());
        }
    }

    [Fact]
    public void Entry_MissingValues_LeftOut()
    {
        var entry = new RequestLogEntry { Method = "GET", Route = "unmatched", Status = 401, DurationMs = 0.5, RequestId = "req_2", Cache = "none", Attempts = 0 };

        Assert.Equal(["Method", "Route", "Status", "DurationMs", "RequestId", "Cache", "Attempts"], entry.Select(p => p.Key));
        Assert.Equal(7, entry.Count);
        Assert.Equal("Attempts", entry[6].Key);
        Assert.Throws<ArgumentOutOfRangeException>(() => entry[7]);
        using var json = Format(entry);
        Assert.False(json.RootElement.GetProperty("State").TryGetProperty("KeyName", out _));
    }

    [Fact]
    public void Message_IsAShortSummary()
    {
        using var json = Format(Full);

        Assert.Equal("POST /v1/chat/completions 200 12.5 ms", json.RootElement.GetProperty("Message").GetString());
        Assert.Equal(800, json.RootElement.GetProperty("EventId").GetInt32());
    }

    [Theory]
    [InlineData("POST", "/v1/chat/completions", 0.001)]
    [InlineData("GET", "unmatched", 123456.789)]
    [InlineData("PATCH", "/v1/messages/count_tokens", 1e-7)]
    [InlineData("POST", "/v1/é\"route", 2.5)]
    public void Message_WrittenInPlace_EqualsToString(string method, string route, double durationMs)
    {
        var entry = new RequestLogEntry { Method = method, Route = route, Status = 499, DurationMs = durationMs, RequestId = "r", Cache = "none", Attempts = 1 };
        using var json = Format(entry);

        Assert.Equal(entry.ToString(), json.RootElement.GetProperty("Message").GetString());
    }

    [Fact]
    public void Message_LongRoute_FallsBackToTheString()
    {
        var entry = new RequestLogEntry { Method = "POST", Route = "/" + new string('r', 300), Status = 200, DurationMs = 1, RequestId = "r", Cache = "none", Attempts = 1 };
        using var json = Format(entry);

        Assert.Equal(entry.ToString(), json.RootElement.GetProperty("Message").GetString());
    }

    private static JsonDocument Format(RequestLogEntry entry)
    {
        var buffer = new ArrayBufferWriter<byte>();
        JsonLogFormatter.Write(buffer, DateTimeOffset.UnixEpoch, LogLevel.Information, "AiGateway.Requests", RequestLog.Event, entry, null, static (state, _) => state.ToString());
        return JsonDocument.Parse(Encoding.UTF8.GetString(buffer.WrittenSpan));
    }
}
