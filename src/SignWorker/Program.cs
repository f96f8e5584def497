using EdgeSigner.ServiceDefaults;
using EdgeSigner.SignWorker.Hosting;

return await ServiceProgram.RunAsync("SignWorker", args, builder => builder.AddSignWorker(), app => app.MapServiceDefaults());
