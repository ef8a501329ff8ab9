using System.Text.Json.Nodes;

namespace AiGateway.FunctionalTests.Infrastructure;

/// <summary>Builds gateway config files for tests.</summary>
internal static class TestConfig
{
    public const string OpenAiKey = "sk-provider-openai-SECRET";
    public const string AzureKey = "azure-provider-SECRET";

    /// <summary>Settings that provide the provider credentials the configs reference.</summary>
    public static readonly string[] Credentials = [$"--TEST_OPENAI_KEY={OpenAiKey}", $"--TEST_AZURE_KEY={AzureKey}"];

    public static JsonObject Create(string? openAiBase = null, string? azureBase = null)
    {
        var clusters = new JsonObject
        {
            ["mock"] = new JsonObject { ["provider"] = "mock" },
        };
        var models = new JsonArray
        {
            new JsonObject { ["name"] = "echo", ["deployments"] = new JsonArray { new JsonObject { ["cluster"] = "mock", ["model"] = "echo-1" } } },
        };
        if (openAiBase is not null)
        {
            clusters["openai"] = new JsonObject
            {
                ["provider"] = "openai",
                ["apiKey"] = "env:TEST_OPENAI_KEY",
                ["destinations"] = new JsonObject { ["d1"] = new JsonObject { ["address"] = openAiBase } },
            };
            models.Add(new JsonObject { ["name"] = "gpt-test", ["contextWindow"] = 8192, ["deployments"] = new JsonArray { new JsonObject { ["cluster"] = "openai", ["model"] = "gpt-upstream" } } });
            models.Add(new JsonObject { ["name"] = "embed-test", ["deployments"] = new JsonArray { new JsonObject { ["cluster"] = "openai", ["model"] = "embed-upstream" } } });
        }
        if (azureBase is not null)
        {
            clusters["azure"] = new JsonObject
            {
                ["provider"] = "azure",
                ["apiKey"] = "env:TEST_AZURE_KEY",
                ["apiVersion"] = "2024-10-21",
                ["destinations"] = new JsonObject { ["d1"] = new JsonObject { ["address"] = azureBase } },
            };
            models.Add(new JsonObject { ["name"] = "gpt-azure", ["deployments"] = new JsonArray { new JsonObject { ["cluster"] = "azure", ["model"] = "my-deployment" } } });
        }

        return new JsonObject
        {
            ["auth"] = new JsonObject
            {
                ["keys"] = new JsonArray
                {
                    new JsonObject { ["name"] = "alpha", ["sha256"] = GatewayInstance.Sha256(GatewayInstance.Key), ["models"] = new JsonArray("*") },
                    new JsonObject { ["name"] = "limited", ["sha256"] = GatewayInstance.Sha256(GatewayInstance.LimitedKey), ["models"] = new JsonArray("echo") },
                },
            },
            ["clusters"] = clusters,
            ["models"] = models,
        };
    }
}
