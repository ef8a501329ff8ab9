using WireMock.Server;
using WireMock.Settings;

namespace AiGateway.FunctionalTests.Infrastructure;

internal static class Upstreams
{
    /// <summary>A WireMock server bound to loopback only.</summary>
    public static WireMockServer StartWireMock() =>
        WireMockServer.Start(new WireMockServerSettings { Urls = [$"http://127.0.0.1:{GatewayInstance.FreePort()}"] });

    public static string BaseUrl(this WireMockServer server) => server.Url!.TrimEnd('/');
}
