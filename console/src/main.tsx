import { createRoot } from 'react-dom/client';
import { App } from './App';
import { takeTokenFromAddress } from './token';
import './styles.css';

takeTokenFromAddress();
createRoot(document.getElementById('root')!).render(<App />);
