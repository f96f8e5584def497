using EdgeSigner.Ingress.Hosting;
using EdgeSigner.ServiceDefaults;

return await ServiceProgram.RunAsync("Ingress", args, builder => builder.AddIngress(), app => app.MapIngress());
