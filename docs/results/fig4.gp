set terminal pngcairo size 720,420 noenhanced
set output 'fig4.png'
set title 'MNIST, iterative at T = 16 (Figure 4''s model)'
set xlabel 'epoch'
set ylabel '-log p(x) (nats, IW)'
set key top right
set grid
plot 'fig4.dat' index 0 using 1:2 with linespoints title 'iterative-t16'
