using System.IO;
using System.Reflection;
using System.Runtime.Loader;
using WgTroubleshoot.Loading;
using Xunit;

namespace WgTroubleshoot.Tests.Loading
{
    public class DependencyLoaderTests
    {
        [Fact]
        public void LoadsTheEngineIntoTheModulesOwnContext()
        {
            Assert.NotNull(DependencyLoader.Engine);
            var engine = DependencyLoader.EngineAssembly;
            Assert.Equal(DependencyLoader.EngineAssemblyName, engine.GetName().Name);
            var context = AssemblyLoadContext.GetLoadContext(engine);
            Assert.Same(DependencyLoader.LoadContext, context);
            Assert.Equal(DependencyLoader.LoadContextName, context.Name);
            Assert.NotSame(AssemblyLoadContext.Default, context);
        }

        [Theory]
        [InlineData("YamlDotNet, Version=18.0.0.0, Culture=neutral, PublicKeyToken=ec19458f3c15af5e")]
        [InlineData("BouncyCastle.Cryptography, Version=2.0.0.0, Culture=neutral, PublicKeyToken=072edcf4a5328938")]
        public void BindsTheEnginesReferencesToTheCopiesInTheDependencyFolder(string reference)
        {
            Assert.NotNull(DependencyLoader.Engine);
            var context = (AssemblyLoadContext)DependencyLoader.LoadContext;
            var bound = context.LoadFromAssemblyName(new AssemblyName(reference));
            Assert.Same(context, AssemblyLoadContext.GetLoadContext(bound));
            Assert.Equal(Path.GetFullPath(DependencyLoader.DependencyDirectory), Path.GetDirectoryName(bound.Location));
        }

        [Fact]
        public void SharesTheModuleAssemblyWithTheEngine()
        {
            // The contract types must be this assembly's, or the engine could not be cast to IDependencyEngine.
            Assert.NotNull(DependencyLoader.Engine);
            var context = (AssemblyLoadContext)DependencyLoader.LoadContext;
            var module = context.LoadFromAssemblyName(typeof(IDependencyEngine).Assembly.GetName());
            Assert.Same(typeof(IDependencyEngine).Assembly, module);
        }
    }
}
