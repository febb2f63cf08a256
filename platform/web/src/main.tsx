import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./app";
import { resolveConfig } from "./config";
import { createServices, ServicesContext } from "./services";
import "./styles.css";
import "./settings/settings.css";
import "./layout.css";
import { applyStoredTheme } from "./ui/theme";

applyStoredTheme();

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root element");

void resolveConfig().then((config) => {
  const services = createServices(config);
  createRoot(root).render(
    <StrictMode>
      <ServicesContext.Provider value={services}>
        <App />
      </ServicesContext.Provider>
    </StrictMode>,
  );
});
