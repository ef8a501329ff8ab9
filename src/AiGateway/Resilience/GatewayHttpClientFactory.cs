using System.Globalization;
using Yarp.ReverseProxy.Forwarder;

namespace AiGateway.Resilience;

/// <summary>
/// YARP's client factory plus the cluster's connect timeout, carried in the cluster metadata, and the one-write request
/// body (<see cref="BufferedBodyHandler"/>). Not sealed: tests watch the connections it makes.
/// </summary>
internal class GatewayHttpClientFactory(ILogger<ForwarderHttpClientFactory> logger) : ForwarderHttpClientFactory(logger)
{
    public const string ConnectTimeoutMetadata = "aigw.connectTimeout";

    /// <summary>Connect timeout when the cluster sets none: long enough for a cold TLS handshake, short enough to fail over.</summary>
    public static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(10);

    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        handler.ConnectTimeout = ConnectTimeout(context.NewMetadata);
    }

    /// <summary>Bodies the gateway holds in memory go upstream in the same write as the headers.</summary>
    protected override HttpMessageHandler WrapHandler(ForwarderHttpClientContext context, HttpMessageHandler handler) =>
        new BufferedBodyHandler(base.WrapHandler(context, handler));

    protected override bool CanReuseOldClient(ForwarderHttpClientContext context) =>
        base.CanReuseOldClient(context) && ConnectTimeout(context.OldMetadata) == ConnectTimeout(context.NewMetadata);

    internal static TimeSpan ConnectTimeout(IReadOnlyDictionary<string, string>? metadata) =>
        metadata is not null && metadata.TryGetValue(ConnectTimeoutMetadata, out var value)
            && TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out var timeout)
            ? timeout
            : DefaultConnectTimeout;
}
