return await AiGateway.Hosting.GatewayApp.RunAsync(args);
