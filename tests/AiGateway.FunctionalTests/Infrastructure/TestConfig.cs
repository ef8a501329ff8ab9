using System.Text.Json.Nodes;

namespace AiGateway.FunctionalTests.Infrastructure;

/// <summary>Builds gateway config files for tests.</summary>
internal static class TestConfig
{
    public const string OpenAiKey = "sk-provider-openai-SECRET";
    public const string AzureKey = "azure-provider-SECRET";
    public const string AnthropicKey = "sk-ant-provider-SECRET";

    /// <summary>Settings that provide the provider credentials the configs reference.</summary>
    public static readonly string[] Credentials = [$"--TEST_OPENAI_KEY={OpenAiKey}", $"--TEST_AZURE_KEY={AzureKey}", $"--TEST_ANTHROPIC_KEY={AnthropicKey}"];

    /// <summary>
    /// With <paramref name="anthropicBase"/>: cluster <c>anthropic</c> and model <c>claude-sonnet</c>
    /// (upstream <c>claude-sonnet-4-5-20250929</c>, the golden fixtures' names), with
    /// <paramref name="claudeMaxOutputTokens"/> as its catalog <c>maxOutputTokens</c> when given.
    /// </summary>
    public static JsonObject Create(string? openAiBase = null, string? azureBase = null, string? anthropicBase = null, int? claudeMaxOutputTokens = null)
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
        if (anthropicBase is not null)
        {
            clusters["anthropic"] = new JsonObject
            {
                ["provider"] = "anthropic",
                ["apiKey"] = "env:TEST_ANTHROPIC_KEY",
                ["destinations"] = new JsonObject { ["d1"] = new JsonObject { ["address"] = anthropicBase } },
            };
            var claude = new JsonObject { ["name"] = "claude-sonnet", ["deployments"] = new JsonArray { new JsonObject { ["cluster"] = "anthropic", ["model"] = "claude-sonnet-4-5-20250929" } } };
            if (claudeMaxOutputTokens is { } max) claude["maxOutputTokens"] = max;
            models.Add(claude);
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
